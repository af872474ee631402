#ifndef ENCODER_KERNELS_H
#define ENCODER_KERNELS_H

#include <stddef.h>

/// The numeric loops of the sentence encoder (SolutionSearch/Semantic). Shapes are checked by the Swift caller;
/// every matrix is row-major and dense.

/// How many floats `ek_pack` writes for a k × m weight: panels of 16 columns, the last one padded with zeros.
size_t ek_packed_count(size_t k, size_t m);

/// Packs wt[k×m] (a layer's weight, transposed: in × out) into panels of 16 columns, each k × 16 and contiguous,
/// the order in which `ek_linear` reads them.
void ek_pack(const float *wt, size_t k, size_t m, float *packed);

/// y[n×m] = x[n×k] · W + bias[m], W packed by `ek_pack`.
void ek_linear(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias, float *y);

/// How many 16-column panels a width of m has.
size_t ek_panels(size_t m);

/// `ek_linear` for the columns of panels [firstPanel, endPanel) only: threads may share one product.
void ek_linear_panels(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias, float *y,
                      size_t firstPanel, size_t endPanel);

/// The same with portable loops: what `ek_linear` runs without AVX2 and FMA.
void ek_linear_plain(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias, float *y);

/// Multi-head self-attention over one sequence: qkv[n×3d] holds each token's query, key and value (d = heads ×
/// headSize); out[n×d] receives the heads' contexts side by side. scratch holds n floats.
void ek_attention(const float *qkv, size_t n, size_t heads, size_t headSize, float *scratch, float *out);

/// x[n×d] = LayerNorm(x + residual) with gain g and bias b (eps 1e-12, as BERT); residual may be NULL.
void ek_add_layer_norm(float *x, const float *residual, size_t n, size_t d, const float *g, const float *b);

/// x = GELU(x), the exact form with erf, as BERT.
void ek_gelu(float *x, size_t count);

/// True when the fast path (AVX2 and FMA) runs on this processor.
int ek_has_fast_path(void);

#endif
