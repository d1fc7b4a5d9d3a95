"""CaptioningRNN of Assignment 3: image captioning with a vanilla RNN or an LSTM.

The model (as the course):

    h0 = features @ W_proj + b_proj                  image features -> initial hidden state
    x  = W_embed[captions_in]                        words -> word vectors
    h  = rnn / lstm (x, h0)                          hidden states of all steps
    scores = h @ W_vocab + b_vocab                   vocabulary scores at every step
    loss = temporal softmax loss of scores against captions_out, <NULL> steps masked

Glossary: N batch, D image feature size, W word vector size, H hidden size,
V vocabulary size, T caption length (T - 1 steps for a caption of T words).
"""
from __future__ import annotations

import numpy as np

from cs231n.layers import affine_backward, affine_forward
from cs231n.rnn_layers import (
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

CELL_TYPES = ("rnn", "lstm")


class CaptioningRNN:
    """Produces captions from image features with a recurrent network.

    The network takes feature vectors of size D, has a vocabulary of V words, works on
    sequences of length T, uses word vectors of size W and hidden states of size H.
    Learnable parameters, in self.params:
    - W_proj: (D, H), b_proj: (H,)           image features -> initial hidden state
    - W_embed: (V, W)                        word vectors
    - Wx: (W, kH), Wh: (H, kH), b: (kH,)     the cell; k = 1 for 'rnn', 4 for 'lstm'
    - W_vocab: (H, V), b_vocab: (V,)         hidden state -> vocabulary scores

    There is no regularization.
    """

    def __init__(self, word_to_idx: dict, input_dim: int = 512, wordvec_dim: int = 128,
                 hidden_dim: int = 128, cell_type: str = "rnn", dtype=np.float32) -> None:
        """Construct a new CaptioningRNN instance.

        Inputs:
        - word_to_idx: dict from the V words of the vocabulary to integers in [0, V);
          it must hold '<NULL>'; '<START>' and '<END>' are needed only by sample()
        - input_dim: D, the size of the input image feature vectors
        - wordvec_dim: W, the size of the word vectors
        - hidden_dim: H, the size of the hidden state of the RNN
        - cell_type: 'rnn' or 'lstm'
        - dtype: numpy floating type of the parameters; float32 for training,
          float64 for numeric gradient checks
        """
        if cell_type not in CELL_TYPES:
            raise ValueError(f'Invalid cell_type "{cell_type}": use one of {CELL_TYPES}')
        if "<NULL>" not in word_to_idx:
            raise ValueError("word_to_idx must hold the padding word '<NULL>'")
        for name, value in (("input_dim", input_dim), ("wordvec_dim", wordvec_dim),
                            ("hidden_dim", hidden_dim)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.cell_type = cell_type
        self.dtype = dtype
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self.params: dict[str, np.ndarray] = {}

        vocab_size = len(word_to_idx)

        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)

        # The draws are in the course's order, so a seeded model starts from its weights.
        # Initialize word vectors
        self.params["W_embed"] = np.random.randn(vocab_size, wordvec_dim)
        self.params["W_embed"] /= 100

        # Initialize CNN -> hidden state projection parameters
        self.params["W_proj"] = np.random.randn(input_dim, hidden_dim)
        self.params["W_proj"] /= np.sqrt(input_dim)
        self.params["b_proj"] = np.zeros(hidden_dim)

        # Initialize parameters for the RNN
        dim_mul = {"lstm": 4, "rnn": 1}[cell_type]
        self.params["Wx"] = np.random.randn(wordvec_dim, dim_mul * hidden_dim)
        self.params["Wx"] /= np.sqrt(wordvec_dim)
        self.params["Wh"] = np.random.randn(hidden_dim, dim_mul * hidden_dim)
        self.params["Wh"] /= np.sqrt(hidden_dim)
        self.params["b"] = np.zeros(dim_mul * hidden_dim)

        # Initialize output to vocab weights
        self.params["W_vocab"] = np.random.randn(hidden_dim, vocab_size)
        self.params["W_vocab"] /= np.sqrt(hidden_dim)
        self.params["b_vocab"] = np.zeros(vocab_size)

        # Cast parameters to correct dtype
        for k, v in self.params.items():
            self.params[k] = v.astype(self.dtype)

    def _check_features(self, features) -> None:
        D = self.params["W_proj"].shape[0]
        if np.ndim(features) != 2 or np.shape(features)[1] != D:
            raise ValueError(f"features must have shape (N, D) = (N, {D}) (D = input_dim of "
                             f"the model), got {np.shape(features)}")

    def _check_captions(self, captions, features) -> None:
        captions = np.asarray(captions)
        if captions.ndim != 2 or not np.issubdtype(captions.dtype, np.integer):
            raise ValueError(f"captions must be a 2-D integer array (N, T) of word indices, "
                             f"got {captions.dtype} of shape {captions.shape}")
        if captions.shape[0] != np.shape(features)[0]:
            raise ValueError(f"captions has {captions.shape[0]} rows but features has "
                             f"{np.shape(features)[0]}: one caption per image")
        if captions.shape[1] < 2:
            raise ValueError(f"captions must have T >= 2 words (a word in and a word out), "
                             f"got T = {captions.shape[1]}")
        V = self.params["W_embed"].shape[0]
        if captions.min() < 0 or captions.max() >= V:
            raise ValueError(f"captions must hold word indices in [0, {V}), got min "
                             f"{captions.min()} max {captions.max()}")

    def loss(self, features: np.ndarray, captions: np.ndarray) -> tuple[float, dict]:
        """Training-time loss and gradients for the RNN.

        The input captions start with <START>; the model reads captions[:, :-1] and
        must predict captions[:, 1:], one word ahead. Steps whose target is <NULL>
        (padding) do not count.

        Inputs:
        - features: (N, D) input image features
        - captions: (N, T) integer ground-truth captions, each element in [0, V)

        Returns a tuple of:
        - loss: scalar loss
        - grads: dict of gradients, with the same keys and shapes as self.params
        """
        self._check_features(features)
        self._check_captions(captions, features)
        # Cut captions into two pieces: captions_in has everything but the last word
        # and is the RNN's input; captions_out has everything but the first word and
        # is what the RNN should produce. The first element of captions_in is <START>
        # and the first element of captions_out is the first real word.
        captions_in = captions[:, :-1]
        captions_out = captions[:, 1:]

        # The mask is False where the target word is <NULL>.
        mask = captions_out != self._null

        loss, grads = 0.0, {}
        #######################################################################
        # TODO: Implement the forward and backward passes of the              #
        # CaptioningRNN. Forward: (1) project the image features to the       #
        # initial hidden state h0 (N, H) with the affine layer W_proj,        #
        # b_proj; (2) embed the words of captions_in, (N, T) -> (N, T, W),    #
        # with W_embed; (3) run the vanilla RNN or the LSTM (self.cell_type)  #
        # over them, giving the hidden states (N, T, H); (4) score the        #
        # vocabulary at every step with the temporal affine layer W_vocab,    #
        # b_vocab, (N, T, V); (5) the temporal softmax loss against           #
        # captions_out, with mask leaving out the <NULL> targets. Store the   #
        # loss in loss.                                                       #
        #                                                                     #
        # Backward: the backward functions in reverse order; store the        #
        # gradient of every parameter in grads, under its name in             #
        # self.params. No regularization.                                     #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        recurrent_forward, recurrent_backward = {
            "rnn": (rnn_forward, rnn_backward), "lstm": (lstm_forward, lstm_backward),
        }[self.cell_type]
        # Forward: image features -> h0, words -> vectors, the recurrence, scores, loss.
        h0, proj_cache = affine_forward(features, p["W_proj"], p["b_proj"])
        x, embed_cache = word_embedding_forward(captions_in, p["W_embed"])
        h, cell_cache = recurrent_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        scores, vocab_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)
        # Backward, in reverse order.
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, vocab_cache)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = recurrent_backward(dh, cell_cache)
        grads["W_embed"] = word_embedding_backward(dx, embed_cache)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, proj_cache)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads

    def sample(self, features: np.ndarray, max_length: int = 30) -> np.ndarray:
        """Test-time greedy sampling of captions.

        At the first step the input is the <START> token and the hidden state is the
        projection of the image features; at each step the most likely word (argmax of
        the scores) is written to the caption and fed back as the next input. The
        <START> token itself is not written.

        The captions start filled with <NULL>, as the course's. Unlike the course's
        loop, a row stops once it has produced <END> (the <END> is written, the rest of
        the row stays <NULL>) and the loop stops when every row has ended; decoding
        with coco_utils.decode_captions gives the same words either way, since it
        stops at <END>.

        Inputs:
        - features: (N, D) input image features
        - max_length: maximum length T of the generated captions

        Returns:
        - captions: (N, max_length) int32 array of word indices
        """
        self._check_features(features)
        if not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        if self._start is None:
            raise ValueError("sample() needs a '<START>' word in word_to_idx to begin captions")
        N = features.shape[0]
        captions = self._null * np.ones((N, max_length), dtype=np.int32)

        #######################################################################
        # TODO: Implement greedy sampling. The initial hidden state is the    #
        # projection of the features (an LSTM's cell state starts at zero)    #
        # and the first input word is <START> (self._start). At each step t,  #
        # embed the current words, take one step of the RNN or the LSTM       #
        # (rnn_step_forward or lstm_step_forward), score the vocabulary with  #
        # W_vocab and b_vocab, and take the most likely word: write it to     #
        # captions[:, t] and feed it in at the next step. A row ends once it  #
        # has written <END> (self._end): its later positions stay <NULL>, and #
        # the loop may stop when every row has ended.                         #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        p = self.params
        h, _ = affine_forward(features, p["W_proj"], p["b_proj"])
        c = np.zeros_like(h)                                # LSTM cell state
        words = np.full(N, self._start)
        running = np.ones(N, dtype=bool)                    # rows that have not ended yet
        for t in range(max_length):
            x = p["W_embed"][words]                         # (N, W) embedding of the inputs
            if self.cell_type == "rnn":
                h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            else:
                h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
            words = np.argmax(h @ p["W_vocab"] + p["b_vocab"], axis=1)
            captions[running, t] = words[running]
            if self._end is not None:
                running &= words != self._end
                if not running.any():
                    break
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return captions
