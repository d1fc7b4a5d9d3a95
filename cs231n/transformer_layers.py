"""Transformer layers of assignment 3 (the course's 2021+ Transformer captioning), in PyTorch.

- `PositionalEncoding`: adds a fixed sinusoid per position to the word vectors, so the model
  knows the order of the words (attention itself ignores it);
- `MultiHeadAttention`: scaled dot-product attention, split over H heads;
- `TransformerDecoderLayer` and `TransformerDecoder`: masked self-attention over the words,
  cross-attention to the image, a feed-forward network, each followed by a residual connection
  and a LayerNorm (post-norm, as the course and the original Transformer).

Glossary: N batch, S target (query) length, T source (key/value) length, E embedding size,
H heads, E/H the size of one head.

The layers are created in the course's order and draw their dropout masks in the course's
order, so that with ``torch.manual_seed(231)`` they reproduce the course's check values (which
were computed in training mode, dropout on). This module never imports TensorFlow.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

Tensor = torch.Tensor


def _check_embeddings(layer: str, name: str, x, embed_dim: int) -> None:
    """x must be a float tensor (N, L, embed_dim)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != embed_dim:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{layer}: {name} must be a tensor of shape (N, L, E) with E = "
                         f"{embed_dim} (the layer's embed_dim), got {shape}")


class PositionalEncoding(nn.Module):
    """Encodes the position of each element of a sequence, added to its embedding.

    pe[0, i, 2j] = sin(i * 10000^(-2j/E)) and pe[0, i, 2j + 1] = cos(i * 10000^(-2j/E)) for
    position i and j = 0 .. E/2 - 1: each pair of dimensions is a sinusoid of its own
    wavelength, from 2 pi to 10000 * 2 pi, so nearby positions have similar codes and any
    fixed offset is a linear map of the code. Dropout is applied to the sum, as the course.
    """

    def __init__(self, embed_dim: int, dropout: float = 0.1, max_len: int = 5000) -> None:
        """Construct the PositionalEncoding layer.

        Inputs:
        - embed_dim: E, the size of the embeddings (even)
        - dropout: the dropout probability
        - max_len: the largest sequence length that can be encoded
        """
        super().__init__()
        if not isinstance(embed_dim, int) or embed_dim < 2 or embed_dim % 2:
            raise ValueError(f"PositionalEncoding: embed_dim must be an even integer >= 2 (one "
                             f"sin and one cos per frequency), got {embed_dim!r}")
        if not isinstance(max_len, int) or max_len < 1:
            raise ValueError(f"PositionalEncoding: max_len must be a positive integer, got {max_len!r}")
        self.dropout = nn.Dropout(p=dropout)
        self.embed_dim, self.max_len = embed_dim, max_len
        pe = torch.zeros(1, max_len, embed_dim)
        ############################################################################
        # TODO: Construct the positional encoding array as described above: for    #
        # position i, the even dimensions 2j hold sin(i * 10000^(-2j/E)) and the   #
        # odd dimensions 2j + 1 hold cos(i * 10000^(-2j/E)). Fill pe, of shape     #
        # (1, max_len, E), without loops.                                          #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)       # (max_len, 1)
        inv_freq = 10000.0 ** (-torch.arange(0, embed_dim, 2, dtype=torch.float32) / embed_dim)
        pe[0, :, 0::2] = torch.sin(position * inv_freq)
        pe[0, :, 1::2] = torch.cos(position * inv_freq)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        # A buffer: saved with the model and moved with .to(device), but not a parameter.
        self.register_buffer("pe", pe)

    def forward(self, x: Tensor) -> Tensor:
        """Element-wise add positional embeddings to the input sequence.

        Inputs:
        - x: (N, S, E) the sequence fed to the positional encoder, S <= max_len
        Returns the input plus its positional encodings, after dropout: (N, S, E).
        """
        _check_embeddings("PositionalEncoding", "x", x, self.embed_dim)
        S = x.shape[1]
        if S > self.max_len:
            raise ValueError(f"PositionalEncoding: sequence of length {S} is longer than "
                             f"max_len={self.max_len}")
        output = None
        ##########################################################################
        # TODO: Index into your array of positional encodings, add the first S   #
        # of them to x, and apply dropout (self.dropout). Store the result in    #
        # output.                                                                #
        ##########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        output = self.dropout(x + self.pe[:, :S].to(x.dtype))
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return output


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention split over several heads.

    Each of the H heads projects the query, key and value to E/H dimensions (one slice of
    the `query`, `key` and `value` layers), and computes

        Y_h = dropout(softmax(Q_h K_h^T / sqrt(E/H) + M)) V_h

    where M is 0 where the mask allows attention and -inf where it does not. The H outputs
    are concatenated back to E dimensions and mixed by the `proj` layer.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.1) -> None:
        """Construct a new MultiHeadAttention layer.

        Inputs:
        - embed_dim: E, dimension of the token embedding
        - num_heads: H, number of attention heads; must divide embed_dim
        - dropout: dropout probability of the attention weights
        """
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"MultiHeadAttention: {name} must be a positive integer, "
                                 f"got {value!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiHeadAttention: embed_dim={embed_dim} is not divisible by "
                             f"num_heads={num_heads}; each head gets embed_dim / num_heads "
                             f"dimensions")
        # The course's order (its check values depend on the random initialization).
        self.key = nn.Linear(embed_dim, embed_dim)
        self.query = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.attn_drop = nn.Dropout(dropout)
        self.n_head = num_heads
        self.emd_dim = embed_dim
        self.head_dim = embed_dim // num_heads

    def forward(self, query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                need_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Calculate the masked attention output for the provided data, computing all
        attention heads in parallel.

        Inputs:
        - query: (N, S, E) input data used as the query
        - key: (N, T, E) input data used as the key
        - value: (N, T, E) input data used as the value
        - attn_mask: None, or (S, T) where attn_mask[i, j] == 0 (False) means that query i
          must not attend to key j (every query must be allowed at least one key)
        - need_weights: also return the attention weights (for plots)

        Returns:
        - output: (N, S, E) the weighted combination of the values, by the attention
          weights of the keys for each query
        - weights (only with need_weights): (N, H, S, T) the attention weights, each row
          summing to 1, before dropout
        """
        E = self.emd_dim
        _check_embeddings("MultiHeadAttention", "query", query, E)
        _check_embeddings("MultiHeadAttention", "key", key, E)
        _check_embeddings("MultiHeadAttention", "value", value, E)
        N, S, _ = query.shape
        T = value.shape[1]
        if key.shape[:2] != value.shape[:2] or query.shape[0] != N or key.shape[0] != N:
            raise ValueError(f"MultiHeadAttention: query {tuple(query.shape)}, key "
                             f"{tuple(key.shape)} and value {tuple(value.shape)} must be "
                             f"(N, S, E), (N, T, E) and (N, T, E)")
        if attn_mask is not None:
            if tuple(attn_mask.shape) != (S, T):
                raise ValueError(f"MultiHeadAttention: attn_mask must have shape (S, T) = "
                                 f"({S}, {T}) (query length, key length), got "
                                 f"{tuple(attn_mask.shape)}")
            if not bool((attn_mask != 0).any(dim=1).all()):
                raise ValueError("MultiHeadAttention: a row of attn_mask is all zero: that "
                                 "query would attend to nothing (softmax over no keys)")
        output = weights = None
        ###########################################################################
        # TODO: Implement multiheaded attention using the equations given in      #
        # the notebook. A few hints:                                              #
        #  1) Split the E dimensions of the projected query, key and value into   #
        #     H heads of E/H: (N, S, E) -> (N, H, S, E/H) (view and transpose).   #
        #  2) The scores Q K^T / sqrt(E/H) of every head in one batched matmul:   #
        #     (N, H, S, E/H) @ (N, H, E/H, T) -> (N, H, S, T).                    #
        #  3) Where attn_mask == 0, set the score to -inf (masked_fill) before    #
        #     the softmax over the keys. Store the weights (N, H, S, T) in        #
        #     weights, then apply self.attn_drop to them.                         #
        #  4) Weight the values, merge the heads back to (N, S, E) and apply      #
        #     self.proj. Store the result in output.                              #
        ###########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        H, Dh = self.n_head, self.head_dim
        q = self.query(query).view(N, S, H, Dh).transpose(1, 2)    # (N, H, S, E/H)
        k = self.key(key).view(N, T, H, Dh).transpose(1, 2)        # (N, H, T, E/H)
        v = self.value(value).view(N, T, H, Dh).transpose(1, 2)    # (N, H, T, E/H)
        scores = q @ k.transpose(2, 3) / math.sqrt(Dh)             # (N, H, S, T)
        if attn_mask is not None:
            scores = scores.masked_fill(attn_mask == 0, float("-inf"))
        weights = F.softmax(scores, dim=-1)
        y = self.attn_drop(weights) @ v                            # (N, H, S, E/H)
        output = self.proj(y.transpose(1, 2).reshape(N, S, E))
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return (output, weights) if need_weights else output


class TransformerDecoderLayer(nn.Module):
    """A single layer of a Transformer decoder, post-norm as the course:

        x = norm1(x + dropout1(self_attn(x, x, x, mask)))        masked self-attention
        x = norm2(x + dropout2(multihead_attn(x, m, m)))         cross-attention to memory m
        x = norm3(x + dropout3(linear2(dropout(relu(linear1(x))))))   feed-forward
    """

    def __init__(self, input_dim: int, num_heads: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1) -> None:
        """Construct a TransformerDecoderLayer instance.

        Inputs:
        - input_dim: E, the size of the token embeddings
        - num_heads: H, the number of attention heads
        - dim_feedforward: the hidden size of the feed-forward network
        - dropout: the dropout probability
        """
        super().__init__()
        if not isinstance(dim_feedforward, int) or dim_feedforward < 1:
            raise ValueError(f"TransformerDecoderLayer: dim_feedforward must be a positive "
                             f"integer, got {dim_feedforward!r}")
        # The course's order.
        self.self_attn = MultiHeadAttention(input_dim, num_heads, dropout)
        self.multihead_attn = MultiHeadAttention(input_dim, num_heads, dropout)
        self.linear1 = nn.Linear(input_dim, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, input_dim)

        self.norm1 = nn.LayerNorm(input_dim)
        self.norm2 = nn.LayerNorm(input_dim)
        self.norm3 = nn.LayerNorm(input_dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

        self.activation = nn.ReLU()

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None) -> Tensor:
        """Pass the inputs (and mask) through the decoder layer.

        Inputs:
        - tgt: (N, T, E) the sequence to the decoder layer (the words so far)
        - memory: (N, K, E) the sequence from the encoder (the image tokens)
        - tgt_mask: (T, T) the parts of the target sequence to mask, or None

        Returns:
        - out: (N, T, E) the Transformer features
        """
        out = None
        ############################################################################
        # TODO: Implement the three sublayers above, in order, each followed by    #
        # its dropout, the residual connection and its LayerNorm: self-attention   #
        # of tgt over itself with tgt_mask, cross-attention of the result over     #
        # memory (no mask), and the feed-forward network linear1 - activation -    #
        # dropout - linear2. Store the result in out.                              #
        ############################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        x = self.norm1(tgt + self.dropout1(self.self_attn(tgt, tgt, tgt, attn_mask=tgt_mask)))
        x = self.norm2(x + self.dropout2(self.multihead_attn(x, memory, memory)))
        ff = self.linear2(self.dropout(self.activation(self.linear1(x))))
        out = self.norm3(x + self.dropout3(ff))
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out


def clones(module: nn.Module, N: int) -> nn.ModuleList:
    """N independent deep copies of module (each with its own parameters)."""
    return nn.ModuleList([copy.deepcopy(module) for _ in range(N)])


class TransformerDecoder(nn.Module):
    """num_layers copies of a decoder layer, applied in turn (the course's given code)."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int) -> None:
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerDecoder: num_layers must be a positive integer, "
                             f"got {num_layers!r}")
        self.layers = clones(decoder_layer, num_layers)
        self.num_layers = num_layers

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None) -> Tensor:
        """tgt (N, T, E), memory (N, K, E), tgt_mask (T, T) or None -> (N, T, E)."""
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask)
        return output
