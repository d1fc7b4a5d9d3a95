"""cs231n: the one package behind the CS231n (Spring 2018) workbook notebooks.

Every course module keeps its official name, so a student's own file drops in beside ours.
Import modules directly, e.g. `from cs231n.layers import affine_forward`. By layer:

Data and display
    config              where the data is (full / mini / quick scale), seeds, device
    data_utils          load_CIFAR10, get_CIFAR10_data, load_mnist, load_imagenet_val, ...
    coco_utils          load_coco_data, decode_captions, sample_coco_minibatch
    image_utils         image files, SqueezeNet pre/deprocessing
    vis_utils           image grids and display helpers
    gradient_check      eval_numerical_gradient(_array), rel_error
    progress            the one progress bar of every training loop

Assignment 1: classifiers/k_nearest_neighbor, linear_svm, softmax, linear_classifier,
    neural_net (TwoLayerNet), features (HOG, colour histograms)

Assignment 2 (NumPy): layers, fast_layers (+ im2col, im2col_cython), layer_utils, optim,
    solver (+ checkpoint), data_augmentation, classifiers/fc_net, classifiers/cnn
Assignment 2 (frameworks): cifar10_training (numpy-only: data, schedule, loop),
    cifar10_pytorch, cifar10_tensorflow

Assignment 3: rnn_layers, classifiers/rnn (CaptioningRNN), captioning_solver,
    captioning_metrics, transformer_layers and classifiers/transformer (CaptioningTransformer,
    PyTorch) with captioning_solver_transformer (+ legacy_dropout_pytorch: the dropout masks of
    the course's check values), classifiers/squeezenet_pytorch, classifiers/squeezenet_tensorflow,
    net_visualization_pytorch/_tensorflow (+ net_visualization, numpy-only),
    style_transfer_pytorch/_tensorflow (+ style_transfer, numpy-only), gan_pytorch/_tensorflow
    (+ gan_utils and gan_scoring, numpy-only: data, loop, the MNIST scorer's scores;
    gan_scorer_pytorch trains the scorer)

A `*_tensorflow` module never imports torch, nor the reverse. Workbook tooling (the results
recorder, the notebook runner, the starter-kit builder, the grader) lives apart, in `workbook/`.
"""
