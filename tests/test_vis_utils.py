import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from cs231n import vis_utils


def test_plot_stats_draws_the_three_histories():
    stats = {"loss_history": [3.0, 2.0, 1.5], "train_acc_history": [0.1, 0.4],
             "val_acc_history": [0.1, 0.3]}
    fig = vis_utils.plot_stats(stats, "title", "Epoch (x)")
    loss_ax, acc_ax = fig.axes
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), stats["loss_history"])
    assert [list(line.get_ydata()) for line in acc_ax.lines] == [[0.1, 0.4], [0.1, 0.3]]
    assert acc_ax.get_xlabel() == "Epoch (x)" and loss_ax.get_title() == "title"
    plt.close(fig)


def test_show_net_weights_one_tile_per_hidden_unit():
    fig = vis_utils.show_net_weights(np.random.default_rng(0).standard_normal((3072, 4)), "W1")
    image = fig.axes[0].images[0].get_array()
    assert image.shape[2] == 3 and image.shape[0] == image.shape[1] == 2 * 32 + 3
    plt.close(fig)
    with pytest.raises(ValueError, match="3072"):
        vis_utils.show_net_weights(np.zeros((100, 4)), "bad")


def test_center_square_cuts_the_middle():
    from cs231n.vis_utils import center_square

    img = np.arange(5 * 7).reshape(5, 7)
    assert np.array_equal(center_square(img, 3), img[1:4, 2:5])
    with pytest.raises(ValueError, match="cannot cut a 6x6"):
        center_square(img, 6)


def test_show_image_table_draws_pixels_and_maps_row_by_row():
    rgb = np.zeros((4, 5, 3), np.uint8)
    saliency = np.random.default_rng(0).random((4, 5))
    fig = vis_utils.show_image_table([[rgb, saliency, rgb], [saliency]],
                                     [["a", "b", "c"], ["d"]], cmap="hot", title="t")
    axes = fig.axes
    assert len(axes) == 6 and fig._suptitle.get_text() == "t"
    assert [ax.get_title() for ax in axes] == ["a", "b", "c", "d", "", ""]
    assert [len(ax.images) for ax in axes] == [1, 1, 1, 1, 0, 0]   # the short row: empty cells
    assert axes[1].images[0].get_cmap().name == "hot"
    plt.close(fig)
