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

/// 8-bit products (weights and inputs as bytes, sums in exact integers): a quarter of the weights' memory and,
/// with the processor's byte dot products (AVX-512 VNNI), several times fewer instructions than 32-bit floats.
/// How many bytes `ek_pack_q8` writes for a k × m weight, and how many bytes `ek_quantize_rows` writes per row.
size_t ek_q8_packed_count(size_t k, size_t m);
size_t ek_q8_row_bytes(size_t k);

/// Packs wt[k×m] in panels of 16 columns and groups of four inner positions; per column, scales[j] = largest
/// magnitude / 127 (weight ≈ byte · scale) and sums[j] = the sum of its bytes (m of each).
void ek_pack_q8(const float *wt, size_t k, size_t m, signed char *packed, float *scales, int *sums);

/// x[n×k] as bytes: per row, scales[i] = largest magnitude / 127, bytes = round(x / scale) + 128, each row
/// `ek_q8_row_bytes(k)` long (padding 128, which meets zero weights).
void ek_quantize_rows(const float *x, size_t n, size_t k, unsigned char *bytes, float *scales);

/// y[n×m] = x · W + bias for the columns of panels [firstPanel, endPanel), x from `ek_quantize_rows`, W from
/// `ek_pack_q8`.
void ek_linear_q8_panels(const unsigned char *xq, const float *xs, size_t n, size_t k, const signed char *packed,
                         const float *scales, const int *sums, size_t m, const float *bias, float *y,
                         size_t firstPanel, size_t endPanel);

/// The same over every column with portable loops (the same integers, so the same results).
void ek_linear_q8_plain(const unsigned char *xq, const float *xs, size_t n, size_t k, const signed char *packed,
                        const float *scales, const int *sums, size_t m, const float *bias, float *y);

/// True when the processor has the byte dot products (AVX-512 VNNI) the 8-bit path is fast with.
int ek_has_int8_path(void);

/// How many floats `ek_attention` needs as scratch for n tokens and heads of `headSize`.
size_t ek_attention_scratch(size_t n, size_t headSize);

/// Multi-head self-attention over one sequence: qkv[n×3d] holds each token's query, key and value (d = heads ×
/// headSize); out[n×d] receives the heads' contexts side by side. scratch holds `ek_attention_scratch(n, headSize)`
/// floats.
void ek_attention(const float *qkv, size_t n, size_t heads, size_t headSize, float *scratch, float *out);

/// x[n×d] = LayerNorm(x + residual) with gain g and bias b (eps 1e-12, as BERT); residual may be NULL.
void ek_add_layer_norm(float *x, const float *residual, size_t n, size_t d, const float *g, const float *b);

/// x = GELU(x), the exact form with erf, as BERT.
void ek_gelu(float *x, size_t count);

/// True when the fast path (AVX2 and FMA) runs on this processor.
int ek_has_fast_path(void);

/// Vectors a search reads are kept as IEEE half-precision numbers (16 bits): half the memory, so half the cache
/// misses of reading a query's pieces and its candidates (the vectors' cosines move by about 1e-4).
/// out[i] = x[i] as a half (round to nearest even; beyond the range, infinity).
void ek_to_f16(const float *x, size_t n, unsigned short *out);
/// out[i] = the half h[i] as a float.
void ek_from_f16(const unsigned short *h, size_t n, float *out);

/// out[i] = query · rows[positions[i]] (each row `dims` halves) for i < count: a search's candidates against its
/// query vector.
void ek_dot_rows_f16(const float *query, const unsigned short *rows, const int *positions, size_t count,
                     size_t dims, float *out);

/// sum += rows[ids[i]] for i < count (each row `dims` halves): a query's word pieces added up.
void ek_add_rows_f16(const unsigned short *rows, const int *ids, size_t count, size_t dims, float *sum);

/// The same two with portable loops: what runs without AVX2, FMA and F16C.
void ek_dot_rows_f16_plain(const float *query, const unsigned short *rows, const int *positions, size_t count,
                           size_t dims, float *out);
void ek_add_rows_f16_plain(const unsigned short *rows, const int *ids, size_t count, size_t dims, float *sum);

/// The word-piece table of a distilled query encoder (SolutionSearch's `DistilledQueryEncoder`): e[vocab×dims] such
/// that the mean of a text's rows comes as near as least squares can to that text's vector from the sentence
/// encoder, Σ ‖mean(e[t] for t in text) − target‖² + lambda · ‖e‖² at its smallest. Text i holds the pieces
/// tokens[offsets[i] ..< offsets[i+1]] (each < vocab; others are skipped), its target is targets[i×dims ..]. Starts
/// from each piece's mean target and takes `iterations` conjugate-gradient steps on the normal equations (the
/// columns are independent systems with one matrix). Returns 0, or -1 when memory runs out (e is then untouched).
int ek_distill(const int *offsets, const int *tokens, size_t texts, const float *targets, size_t dims, size_t vocab,
               float lambda, int iterations, float *e);

#endif
