"""CaptioningTransformer of assignment 3 (the course's 2021+ Transformer captioning), in PyTorch.

The model (as the course):

    m = visual_projection(features)                 image features -> K image tokens (N, K, W)
    x = positional_encoding(embedding(captions))    words -> word vectors + positions (N, T, W)
    h = transformer(x, m, causal mask)              decoder layers: each word attends to the
                                                    words before it and to the image tokens
    scores = output(h)                              vocabulary scores at every step (N, T, V)

The course projects the image to one token (K = 1); `num_image_tokens` > 1 projects it to K
tokens instead, so that the cross-attention has something to choose from (with one token its
weights are all 1). Training (the loss and the loop) is in `cs231n.captioning_solver_transformer`.

Glossary: N batch, D image feature size, W word vector size (the model width), V vocabulary
size, T caption length, K image tokens, H attention heads, L layers.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cs231n.transformer_layers import (
    PositionalEncoding,
    TransformerDecoder,
    TransformerDecoderLayer,
)

Tensor = torch.Tensor


class CaptioningTransformer(nn.Module):
    """A CaptioningTransformer produces captions from image features using a Transformer
    decoder.

    The Transformer receives input vectors of size D, has a vocab size of V, works on
    sequences of length T, uses word vectors of dimension W, and operates on minibatches
    of size N.
    """

    def __init__(self, word_to_idx: dict, input_dim: int, wordvec_dim: int, num_heads: int = 4,
                 num_layers: int = 2, max_length: int = 50, num_image_tokens: int = 1,
                 dim_feedforward: int = 2048, dropout: float = 0.1) -> None:
        """Construct a new CaptioningTransformer instance.

        Inputs:
        - word_to_idx: a dict giving the vocabulary; V entries mapping each string to a
          unique integer in [0, V); it must hold '<NULL>' ('<START>' and '<END>' are needed
          only by sample())
        - input_dim: D, the dimension of the input image feature vectors
        - wordvec_dim: W, the dimension of the word vectors (the width of the model)
        - num_heads: number of attention heads; must divide W
        - num_layers: number of transformer layers
        - max_length: the longest caption (in words, with <START>) the model can read
        - num_image_tokens: K, how many tokens the image is projected to (the course: 1)
        - dim_feedforward, dropout: of each decoder layer (the course's defaults)
        """
        super().__init__()
        if "<NULL>" not in word_to_idx:
            raise ValueError("CaptioningTransformer: word_to_idx must hold the padding word '<NULL>'")
        for name, value in (("input_dim", input_dim), ("wordvec_dim", wordvec_dim),
                            ("num_image_tokens", num_image_tokens)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"CaptioningTransformer: {name} must be a positive integer, "
                                 f"got {value!r}")
        vocab_size = len(word_to_idx)
        self.vocab_size = vocab_size
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)
        self.input_dim, self.wordvec_dim = int(input_dim), int(wordvec_dim)
        self.num_image_tokens = int(num_image_tokens)
        self.max_length = max_length

        # The course's order: its check values depend on how much of the random stream the
        # initialization uses.
        self.visual_projection = nn.Linear(input_dim, num_image_tokens * wordvec_dim)
        self.embedding = nn.Embedding(vocab_size, wordvec_dim, padding_idx=self._null)
        self.positional_encoding = PositionalEncoding(wordvec_dim, dropout=dropout, max_len=max_length)

        decoder_layer = TransformerDecoderLayer(input_dim=wordvec_dim, num_heads=num_heads,
                                                dim_feedforward=dim_feedforward, dropout=dropout)
        self.transformer = TransformerDecoder(decoder_layer, num_layers=num_layers)
        self.apply(self._init_weights)

        self.output = nn.Linear(wordvec_dim, vocab_size)

    def _init_weights(self, module: nn.Module) -> None:
        """Initialize the weights of the network (as the course, after GPT-2)."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def _check_inputs(self, features, captions) -> None:
        if not isinstance(features, torch.Tensor) or features.ndim != 2 or \
                features.shape[1] != self.input_dim:
            shape = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
            raise ValueError(f"CaptioningTransformer: features must be a tensor (N, D) = "
                             f"(N, {self.input_dim}) (D = input_dim), got {shape}")
        if not isinstance(captions, torch.Tensor) or captions.ndim != 2 or \
                captions.dtype.is_floating_point or captions.dtype == torch.bool:
            what = f"{captions.dtype} {tuple(captions.shape)}" if isinstance(captions, torch.Tensor) \
                else type(captions).__name__
            raise ValueError(f"CaptioningTransformer: captions must be an integer tensor (N, T) "
                             f"of word indices, got {what}")
        N, T = captions.shape
        if N != features.shape[0]:
            raise ValueError(f"CaptioningTransformer: captions has {N} rows but features has "
                             f"{features.shape[0]}: one caption per image")
        if T < 1 or T > self.max_length:
            raise ValueError(f"CaptioningTransformer: captions of T = {T} words; the model reads "
                             f"1 to max_length = {self.max_length}")
        if captions.numel() and (int(captions.min()) < 0 or int(captions.max()) >= self.vocab_size):
            raise ValueError(f"CaptioningTransformer: captions must hold word indices in "
                             f"[0, {self.vocab_size}), got min {int(captions.min())} max "
                             f"{int(captions.max())}")

    def forward(self, features: Tensor, captions: Tensor) -> Tensor:
        """Given image features and caption tokens, return a distribution over the possible
        tokens for each timestep. Note that since the entire sequence of captions is
        provided all at once, we mask out future timesteps.

        Inputs:
        - features: image features, of shape (N, D)
        - captions: ground truth captions, of shape (N, T), integer word indices

        Returns:
        - scores: score for each token at each timestep, of shape (N, T, V)
        """
        self._check_inputs(features, captions)
        N, T = captions.shape
        scores = None
        ###########################################################################
        # TODO: Implement the forward function for CaptionTransformer.            #
        # A few hints:                                                            #
        #  1) You first have to embed your caption and add positional             #
        #     encoding. You then have to project the image features into the      #
        #     same dimensions: (N, D) -> (N, K * W), viewed as K tokens           #
        #     (N, K, W) (K = self.num_image_tokens; the course has K = 1).        #
        #  2) You have to prepare a mask (tgt_mask) for masking out the future    #
        #     timesteps in captions: (T, T), zero above the diagonal.             #
        #  3) Finally, apply the decoder features on the text & image embedding   #
        #     along with the tgt_mask. Project the output to scores per token     #
        #     with self.output and store them in scores.                          #
        ###########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        words = self.positional_encoding(self.embedding(captions))               # (N, T, W)
        memory = self.visual_projection(features).view(N, self.num_image_tokens, -1)
        tgt_mask = torch.tril(torch.ones(T, T, dtype=torch.bool, device=captions.device))
        scores = self.output(self.transformer(words, memory, tgt_mask=tgt_mask))
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return scores

    def sample(self, features: np.ndarray, max_length: int = 30) -> np.ndarray:
        """Given image features, use greedy decoding to predict the image caption.

        At each step the model reads <START> and the words chosen so far and the most likely
        next word is appended. Runs in eval mode (no dropout) without building a graph, and
        puts the model back in the mode it was in. A row that has written <END> keeps it and
        is then filled with <NULL>; decoding stops early once every row has ended.

        Inputs:
        - features: image features, of shape (N, D) (numpy or tensor)
        - max_length: maximum possible caption length, at most the model's max_length

        Returns:
        - captions: captions for each example, of shape (N, max_length), int32 numpy
        """
        if self._start is None:
            raise ValueError("sample() needs a '<START>' word in word_to_idx to begin captions")
        if not isinstance(max_length, (int, np.integer)) or not 1 <= max_length <= self.max_length:
            raise ValueError(f"sample: max_length must be an integer in [1, {self.max_length}] "
                             f"(the model's max_length), got {max_length!r}")
        param = self.output.weight
        features = torch.as_tensor(np.asarray(features), dtype=param.dtype, device=param.device)
        N = features.shape[0]
        captions = self._null * np.ones((N, max_length), dtype=np.int32)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                partial = torch.full((N, 1), self._start, dtype=torch.long, device=param.device)
                running = torch.ones(N, dtype=torch.bool, device=param.device)
                ###########################################################################
                # TODO: Greedy decoding. At each step t: the scores of the model on the   #
                # partial captions (the last position's scores are those of the next      #
                # word), the most likely word, written to captions[:, t] for the rows     #
                # still running, and appended to partial. A row stops running once it     #
                # has written <END> (self._end); stop when no row is running.             #
                ###########################################################################
                # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
                for t in range(max_length):
                    word = self.forward(features, partial)[:, -1, :].argmax(dim=1)   # (N,)
                    keep = running.cpu().numpy()
                    captions[keep, t] = word.cpu().numpy()[keep]
                    partial = torch.cat([partial, word.unsqueeze(1)], dim=1)
                    if self._end is not None:
                        running &= word != self._end
                        if not bool(running.any()):
                            break
                # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        finally:
            self.train(was_training)
        return captions


def cross_attention_weights(model: CaptioningTransformer, features, captions) -> np.ndarray:
    """The cross-attention weights of every decoder layer: how much each word position reads
    each image token, in eval mode (no dropout), for plots.

    Inputs:
    - model: a CaptioningTransformer
    - features: (N, D) image features; captions: (N, T) word indices, <START> first (numpy
      or tensors), e.g. <START> followed by a sampled caption
    Returns weights (L, N, H, T, K) float32 numpy: for layer l, image n, head h and position
    t, a distribution over the K image tokens (all 1 when K = 1).
    """
    param = model.output.weight
    features = torch.as_tensor(np.asarray(features), dtype=param.dtype, device=param.device)
    captions = torch.as_tensor(np.asarray(captions), dtype=torch.long, device=param.device)
    weights: list[Tensor] = []

    def keep_weights(module, args, kwargs, output):
        # the same call again, asking for the weights (forward: no hooks, no recursion)
        _, w = module.forward(*args, **{**kwargs, "need_weights": True})
        if w is None:
            raise ValueError("cross_attention_weights: MultiHeadAttention.forward must set "
                             "`weights` (the attention weights) for need_weights=True")
        weights.append(w.detach())

    hooks = [layer.multihead_attn.register_forward_hook(keep_weights, with_kwargs=True)
             for layer in model.transformer.layers]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(features, captions)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return torch.stack(weights).float().cpu().numpy()
