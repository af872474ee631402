#include "encoder_kernels.h"

#include <math.h>
#include <string.h>

#define PANEL 16

size_t ek_packed_count(size_t k, size_t m) { return ((m + PANEL - 1) / PANEL) * k * PANEL; }

void ek_pack(const float *wt, size_t k, size_t m, float *packed) {
    size_t panels = (m + PANEL - 1) / PANEL;
    for (size_t panel = 0; panel < panels; panel++) {
        float *block = packed + panel * k * PANEL;
        for (size_t p = 0; p < k; p++) {
            for (size_t c = 0; c < PANEL; c++) {
                size_t j = panel * PANEL + c;
                block[p * PANEL + c] = j < m ? wt[p * m + j] : 0.0f;
            }
        }
    }
}

/// Stores the first `count` of the 16 results of one row (the last panel of a width not a multiple of 16).
static void store_row(float *y, const float *values, size_t count) {
    for (size_t c = 0; c < count; c++) y[c] = values[c];
}

/// e^x, branch-free so loops over it vectorise (the C library's expf is a call per number): 2^n · e^r with
/// n = round(x / ln 2), r = x − n · ln 2 (ln 2 in two parts, as Cephes) and Cephes' polynomial for e^r; relative
/// error about 1e-7. Inputs here are at most 0 (softmax, erf's e^(−a²)); below −87 the result is e^−87.
static inline __attribute__((always_inline)) float exp_approx(float x) {
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float n = rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    int bits = ((int)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

#if defined(__x86_64__)
#include <immintrin.h>

// Up to 6 rows × 16 columns of y per step: twelve accumulators, two registers of the panel and one broadcast.
// A panel (k × 16, contiguous) stays in L1 while every row block of x passes over it.
__attribute__((target("avx2,fma"))) static void linear_avx2(const float *x, size_t n, size_t k,
                                                             const float *packed, size_t m, const float *bias,
                                                             float *y, size_t firstPanel, size_t endPanel) {
    for (size_t panel = firstPanel; panel < endPanel; panel++) {
        const float *block = packed + panel * k * PANEL;
        size_t j = panel * PANEL, width = m - j < PANEL ? m - j : PANEL;
        float biasRow[PANEL] = {0};
        for (size_t c = 0; c < width; c++) biasRow[c] = bias[j + c];
        __m256 b0 = _mm256_loadu_ps(biasRow), b1 = _mm256_loadu_ps(biasRow + 8);
        for (size_t i = 0; i < n; i += 6) {
            size_t rows = n - i < 6 ? n - i : 6;
            __m256 acc[6][2];
            for (size_t r = 0; r < 6; r++) {
                acc[r][0] = b0;
                acc[r][1] = b1;
            }
            const float *xi = x + i * k;
#define F32_WEIGHTS __m256 w0 = _mm256_loadu_ps(block + p * PANEL), w1 = _mm256_loadu_ps(block + p * PANEL + 8);
#define F32_ROW(r)                                                                                      \
    {                                                                                                   \
        __m256 v = _mm256_broadcast_ss(xi + (r) * k + p);                                               \
        acc[r][0] = _mm256_fmadd_ps(v, w0, acc[r][0]);                                                  \
        acc[r][1] = _mm256_fmadd_ps(v, w1, acc[r][1]);                                                  \
    }
            if (rows == 6) {
                for (size_t p = 0; p < k; p++) {
                    F32_WEIGHTS
                    F32_ROW(0) F32_ROW(1) F32_ROW(2) F32_ROW(3) F32_ROW(4) F32_ROW(5)
                }
            } else {
                for (size_t p = 0; p < k; p++) {
                    F32_WEIGHTS
                    for (size_t r = 0; r < rows; r++) F32_ROW(r)
                }
            }
#undef F32_ROW
#undef F32_WEIGHTS
            for (size_t r = 0; r < rows; r++) {
                float *out = y + (i + r) * m + j;
                if (width == PANEL) {
                    _mm256_storeu_ps(out, acc[r][0]);
                    _mm256_storeu_ps(out + 8, acc[r][1]);
                } else {
                    float values[PANEL];
                    _mm256_storeu_ps(values, acc[r][0]);
                    _mm256_storeu_ps(values + 8, acc[r][1]);
                    store_row(out, values, width);
                }
            }
        }
    }
}

int ek_has_fast_path(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
int ek_has_fast_path(void) { return 0; }
#endif

#if defined(__x86_64__)
// Whether the AVX2/FMA and the AVX-512 VNNI copies run: each processor is asked once (every thread gets the same
// answer, so a second asker racing the first only asks again).
static int use_avx2(void) {
    static int fast = -1;
    if (fast < 0) fast = ek_has_fast_path();
    return fast;
}

static int use_vnni(void) {
    static int fast = -1;
    if (fast < 0) fast = ek_has_int8_path();
    return fast;
}
#endif

static void linear_plain(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias,
                         float *y, size_t firstPanel, size_t endPanel) {
    for (size_t i = 0; i < n; i++) {
        for (size_t panel = firstPanel; panel < endPanel; panel++) {
            const float *block = packed + panel * k * PANEL;
            size_t j = panel * PANEL, width = m - j < PANEL ? m - j : PANEL;
            float values[PANEL] = {0};
            for (size_t c = 0; c < width; c++) values[c] = bias[j + c];
            for (size_t p = 0; p < k; p++) {
                float v = x[i * k + p];
                for (size_t c = 0; c < PANEL; c++) values[c] += v * block[p * PANEL + c];
            }
            store_row(y + i * m + j, values, width);
        }
    }
}

size_t ek_panels(size_t m) { return (m + PANEL - 1) / PANEL; }

void ek_linear_panels(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias, float *y,
                      size_t firstPanel, size_t endPanel) {
    size_t panels = ek_panels(m);
    if (endPanel > panels) endPanel = panels;
    if (firstPanel >= endPanel) return;
#if defined(__x86_64__)
    if (use_avx2()) {
        linear_avx2(x, n, k, packed, m, bias, y, firstPanel, endPanel);
        return;
    }
#endif
    linear_plain(x, n, k, packed, m, bias, y, firstPanel, endPanel);
}

void ek_linear(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias, float *y) {
    ek_linear_panels(x, n, k, packed, m, bias, y, 0, ek_panels(m));
}

void ek_linear_plain(const float *x, size_t n, size_t k, const float *packed, size_t m, const float *bias, float *y) {
    linear_plain(x, n, k, packed, m, bias, y, 0, ek_panels(m));
}

// 8-bit products. Weights: per output column, scale = largest magnitude / 127 and bytes = round(w / scale). A row
// of x: scale = its largest magnitude / 127 and bytes = round(x / scale) + 128 (unsigned, as the processor's
// byte dot product wants the left operand). Then y = xScale · wScale · (Σ xByte · wByte − 128 · Σ wByte) + bias,
// all sums in exact 32-bit integers (at most 255 · 127 · k). Panels hold 16 columns in groups of four inner
// positions: [group][column][4 bytes], the inner size padded to a multiple of four with zero weights.

#define GROUP 4

static size_t groups_of(size_t k) { return (k + GROUP - 1) / GROUP; }

size_t ek_q8_packed_count(size_t k, size_t m) { return ek_panels(m) * groups_of(k) * PANEL * GROUP; }

size_t ek_q8_row_bytes(size_t k) { return groups_of(k) * GROUP; }

void ek_pack_q8(const float *wt, size_t k, size_t m, signed char *packed, float *scales, int *sums) {
    size_t groups = groups_of(k), panels = ek_panels(m);
    for (size_t j = 0; j < m; j++) {
        float largest = 0;
        for (size_t p = 0; p < k; p++) {
            float a = fabsf(wt[p * m + j]);
            if (a > largest) largest = a;
        }
        scales[j] = largest > 0 ? largest / 127.0f : 1.0f;
        sums[j] = 0;
    }
    for (size_t panel = 0; panel < panels; panel++) {
        for (size_t g = 0; g < groups; g++) {
            for (size_t c = 0; c < PANEL; c++) {
                size_t j = panel * PANEL + c;
                for (size_t t = 0; t < GROUP; t++) {
                    size_t p = g * GROUP + t;
                    signed char q = 0;
                    if (j < m && p < k) {
                        float v = wt[p * m + j] / scales[j];
                        q = (signed char)(v > 127.0f ? 127 : v < -127.0f ? -127 : lrintf(v));
                        sums[j] += q;
                    }
                    packed[((panel * groups + g) * PANEL + c) * GROUP + t] = q;
                }
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void quantize_rows_avx512(const float *x, size_t n, size_t k,
                                                                    unsigned char *bytes, float *scales) {
    size_t stride = ek_q8_row_bytes(k);
    for (size_t i = 0; i < n; i++) {
        const float *row = x + i * k;
        __m512 top = _mm512_setzero_ps();
        for (size_t p = 0; p < k; p += 16) {
            __mmask16 mask = k - p >= 16 ? 0xFFFF : (__mmask16)((1u << (k - p)) - 1);
            top = _mm512_max_ps(top, _mm512_abs_ps(_mm512_maskz_loadu_ps(mask, row + p)));
        }
        float largest = _mm512_reduce_max_ps(top);
        float scale = largest > 0 ? largest / 127.0f : 1.0f, inverse = 1.0f / scale;
        scales[i] = scale;
        unsigned char *out = bytes + i * stride;
        __m512 factor = _mm512_set1_ps(inverse);
        __m512i low = _mm512_set1_epi32(-127), high = _mm512_set1_epi32(127), offset = _mm512_set1_epi32(128);
        for (size_t p = 0; p < k; p += 16) {
            __mmask16 mask = k - p >= 16 ? 0xFFFF : (__mmask16)((1u << (k - p)) - 1);
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + p), factor));
            q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, low), high), offset);
            _mm512_mask_cvtepi32_storeu_epi8(out + p, mask, q);
        }
        for (size_t p = k; p < stride; p++) out[p] = 128;
    }
}
#endif

void ek_quantize_rows(const float *x, size_t n, size_t k, unsigned char *bytes, float *scales) {
#if defined(__x86_64__)
    if (use_vnni()) {
        quantize_rows_avx512(x, n, k, bytes, scales);
        return;
    }
#endif
    size_t stride = ek_q8_row_bytes(k);
    for (size_t i = 0; i < n; i++) {
        const float *row = x + i * k;
        float largest = 0;
        for (size_t p = 0; p < k; p++) {
            float a = fabsf(row[p]);
            if (a > largest) largest = a;
        }
        float scale = largest > 0 ? largest / 127.0f : 1.0f, inverse = 1.0f / scale;
        scales[i] = scale;
        unsigned char *out = bytes + i * stride;
        for (size_t p = 0; p < k; p++) {
            float v = row[p] * inverse;
            long q = v > 127.0f ? 127 : v < -127.0f ? -127 : lrintf(v);
            out[p] = (unsigned char)(q + 128);
        }
        for (size_t p = k; p < stride; p++) out[p] = 128;
    }
}

/// One output of the 8-bit product from its integer dot product.
static inline float q8_output(int dot, int sum, float xScale, float wScale, float bias) {
    return fmaf((float)(dot - 128 * sum) * xScale, wScale, bias);
}

static void linear_q8_plain(const unsigned char *xq, const float *xs, size_t n, size_t k, const signed char *packed,
                            const float *scales, const int *sums, size_t m, const float *bias, float *y,
                            size_t firstPanel, size_t endPanel) {
    size_t groups = groups_of(k), stride = ek_q8_row_bytes(k);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *row = xq + i * stride;
        for (size_t panel = firstPanel; panel < endPanel; panel++) {
            const signed char *block = packed + panel * groups * PANEL * GROUP;
            size_t j = panel * PANEL, width = m - j < PANEL ? m - j : PANEL;
            int dots[PANEL] = {0};
            for (size_t g = 0; g < groups; g++) {
                for (size_t c = 0; c < PANEL; c++) {
                    for (size_t t = 0; t < GROUP; t++) {
                        dots[c] += (int)row[g * GROUP + t] * (int)block[(g * PANEL + c) * GROUP + t];
                    }
                }
            }
            for (size_t c = 0; c < width; c++) {
                y[i * m + j + c] = q8_output(dots[c], sums[j + c], xs[i], scales[j + c], bias[j + c]);
            }
        }
    }
}

#if defined(__x86_64__)
#define Q8_ROWS 8
// Up to 8 rows × 16 columns per step, one 512-bit register of 32-bit sums per row; each step multiplies four inner
// positions of 16 columns (64 weight bytes) by four bytes of each row, broadcast, in one instruction per row.
__attribute__((target("avx512f,avx512vnni"))) static void linear_q8_vnni(
    const unsigned char *xq, const float *xs, size_t n, size_t k, const signed char *packed, const float *scales,
    const int *sums, size_t m, const float *bias, float *y, size_t firstPanel, size_t endPanel) {
    size_t groups = groups_of(k), stride = ek_q8_row_bytes(k);
    for (size_t panel = firstPanel; panel < endPanel; panel++) {
        const signed char *block = packed + panel * groups * PANEL * GROUP;
        size_t j = panel * PANEL, width = m - j < PANEL ? m - j : PANEL;
        __mmask16 mask = (__mmask16)((1u << width) - 1);
        __m512 wScale = _mm512_maskz_loadu_ps(mask, scales + j), b = _mm512_maskz_loadu_ps(mask, bias + j);
        __m512i correction = _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(mask, sums + j), _mm512_set1_epi32(128));
        for (size_t i = 0; i < n; i += Q8_ROWS) {
            size_t rows = n - i < Q8_ROWS ? n - i : Q8_ROWS;
            __m512i acc[Q8_ROWS];
            for (size_t r = 0; r < Q8_ROWS; r++) acc[r] = _mm512_setzero_si512();
            const unsigned char *xi = xq + i * stride;
            if (rows == Q8_ROWS) {
                for (size_t g = 0; g < groups; g++) {
                    __m512i w = _mm512_loadu_si512((const void *)(block + g * PANEL * GROUP));
#define Q8_ROW(r)                                                                                                \
    {                                                                                                            \
        int four;                                                                                                \
        memcpy(&four, xi + (r) * stride + g * GROUP, sizeof four);                                               \
        acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_set1_epi32(four), w);                                        \
    }
                    Q8_ROW(0) Q8_ROW(1) Q8_ROW(2) Q8_ROW(3) Q8_ROW(4) Q8_ROW(5) Q8_ROW(6) Q8_ROW(7)
                }
            } else {
                for (size_t g = 0; g < groups; g++) {
                    __m512i w = _mm512_loadu_si512((const void *)(block + g * PANEL * GROUP));
                    for (size_t r = 0; r < rows; r++) Q8_ROW(r)
#undef Q8_ROW
                }
            }
            for (size_t r = 0; r < rows; r++) {
                __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r], correction));
                __m512 out = _mm512_fmadd_ps(_mm512_mul_ps(dot, _mm512_set1_ps(xs[i + r])), wScale, b);
                _mm512_mask_storeu_ps(y + (i + r) * m + j, mask, out);
            }
        }
    }
}

int ek_has_int8_path(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
}
#else
int ek_has_int8_path(void) { return 0; }
#endif

void ek_linear_q8_panels(const unsigned char *xq, const float *xs, size_t n, size_t k, const signed char *packed,
                         const float *scales, const int *sums, size_t m, const float *bias, float *y,
                         size_t firstPanel, size_t endPanel) {
    size_t panels = ek_panels(m);
    if (endPanel > panels) endPanel = panels;
    if (firstPanel >= endPanel) return;
#if defined(__x86_64__)
    if (use_vnni()) {
        linear_q8_vnni(xq, xs, n, k, packed, scales, sums, m, bias, y, firstPanel, endPanel);
        return;
    }
#endif
    linear_q8_plain(xq, xs, n, k, packed, scales, sums, m, bias, y, firstPanel, endPanel);
}

void ek_linear_q8_plain(const unsigned char *xq, const float *xs, size_t n, size_t k, const signed char *packed,
                        const float *scales, const int *sums, size_t m, const float *bias, float *y) {
    linear_q8_plain(xq, xs, n, k, packed, scales, sums, m, bias, y, 0, ek_panels(m));
}

/// Softmax of each of n rows of n scores, in place; inlined into a portable and an AVX2/FMA copy (below). The
/// maximum and the sum are kept in eight lanes, so the compiler may vectorise them (a single running float sum
/// must be added in order, which forbids it).
static inline __attribute__((always_inline)) void softmax_body(float *scores, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float *row = scores + i * n;
        float lanes[8];
        for (size_t l = 0; l < 8; l++) lanes[l] = -INFINITY;
        size_t whole = n - n % 8;
        for (size_t j = 0; j < whole; j += 8) {
            for (size_t l = 0; l < 8; l++) lanes[l] = row[j + l] > lanes[l] ? row[j + l] : lanes[l];
        }
        float top = -INFINITY;
        for (size_t j = whole; j < n; j++) top = row[j] > top ? row[j] : top;
        for (size_t l = 0; l < 8; l++) top = lanes[l] > top ? lanes[l] : top;
        for (size_t j = 0; j < n; j++) row[j] = exp_approx(row[j] - top);
        for (size_t l = 0; l < 8; l++) lanes[l] = 0;
        for (size_t j = 0; j < whole; j += 8) {
            for (size_t l = 0; l < 8; l++) lanes[l] += row[j + l];
        }
        float total = 0;
        for (size_t j = whole; j < n; j++) total += row[j];
        for (size_t l = 0; l < 8; l++) total += lanes[l];
        float inverse = 1.0f / total;
        for (size_t j = 0; j < n; j++) row[j] *= inverse;
    }
}

static void softmax_plain(float *scores, size_t n) { softmax_body(scores, n); }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void softmax_avx2(float *scores, size_t n) { softmax_body(scores, n); }
#endif

static void softmax_rows(float *scores, size_t n) {
#if defined(__x86_64__)
    if (use_avx2()) {
        softmax_avx2(scores, n);
        return;
    }
#endif
    softmax_plain(scores, n);
}

size_t ek_attention_scratch(size_t n, size_t headSize) {
    return 2 * n * headSize                          // the head's queries; its keys transposed, then its values
           + ek_packed_count(headSize, n)            // the keys in the product's panels
           + n * n                                   // the scores
           + ek_packed_count(n, headSize)            // the values in panels
           + n * headSize                            // the head's context
           + (n > headSize ? n : headSize);          // a zero bias
}

/// Per head, both products through the matrix kernel (`ek_linear`): scores = (Q / √headSize) · Kᵀ, softmax by row,
/// context = scores · V; Q, K and V copied out of `qkv` into the layouts the kernel reads.
void ek_attention(const float *qkv, size_t n, size_t heads, size_t headSize, float *scratch, float *out) {
    size_t d = heads * headSize, stride = 3 * d;
    float scale = 1.0f / sqrtf((float)headSize);
    float *queries = scratch, *rows = queries + n * headSize, *packedKeys = rows + n * headSize;
    float *scores = packedKeys + ek_packed_count(headSize, n), *packedValues = scores + n * n;
    float *context = packedValues + ek_packed_count(n, headSize), *zeros = context + n * headSize;
    memset(zeros, 0, (n > headSize ? n : headSize) * sizeof(float));
    for (size_t h = 0; h < heads; h++) {
        size_t qOffset = h * headSize, kOffset = d + h * headSize, vOffset = 2 * d + h * headSize;
        for (size_t i = 0; i < n; i++) {
            for (size_t t = 0; t < headSize; t++) {
                queries[i * headSize + t] = qkv[i * stride + qOffset + t] * scale;
                rows[t * n + i] = qkv[i * stride + kOffset + t];
            }
        }
        ek_pack(rows, headSize, n, packedKeys);
        ek_linear(queries, n, headSize, packedKeys, n, zeros, scores);
        softmax_rows(scores, n);
        for (size_t j = 0; j < n; j++) memcpy(rows + j * headSize, qkv + j * stride + vOffset, headSize * sizeof(float));
        ek_pack(rows, n, headSize, packedValues);
        ek_linear(scores, n, n, packedValues, headSize, zeros, context);
        for (size_t i = 0; i < n; i++) memcpy(out + i * d + h * headSize, context + i * headSize, headSize * sizeof(float));
    }
}

/// Inlined into a portable and an AVX2/FMA copy: sums kept in eight lanes so the loops vectorise.
static inline __attribute__((always_inline)) void layer_norm_body(float *x, const float *residual, size_t n, size_t d,
                                                                  const float *g, const float *b) {
    size_t whole = d - d % 8;
    for (size_t i = 0; i < n; i++) {
        float *row = x + i * d;
        if (residual) {
            for (size_t t = 0; t < d; t++) row[t] += residual[i * d + t];
        }
        float lanes[8] = {0};
        for (size_t t = 0; t < whole; t += 8) {
            for (size_t l = 0; l < 8; l++) lanes[l] += row[t + l];
        }
        float sum = 0;
        for (size_t t = whole; t < d; t++) sum += row[t];
        for (size_t l = 0; l < 8; l++) sum += lanes[l];
        float mean = sum / (float)d;
        for (size_t l = 0; l < 8; l++) lanes[l] = 0;
        for (size_t t = 0; t < whole; t += 8) {
            for (size_t l = 0; l < 8; l++) lanes[l] += (row[t + l] - mean) * (row[t + l] - mean);
        }
        float squares = 0;
        for (size_t t = whole; t < d; t++) squares += (row[t] - mean) * (row[t] - mean);
        for (size_t l = 0; l < 8; l++) squares += lanes[l];
        float inverse = 1.0f / sqrtf(squares / (float)d + 1e-12f);
        for (size_t t = 0; t < d; t++) row[t] = (row[t] - mean) * inverse * g[t] + b[t];
    }
}

static void layer_norm_plain(float *x, const float *residual, size_t n, size_t d, const float *g, const float *b) {
    layer_norm_body(x, residual, n, d, g, b);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void layer_norm_avx2(float *x, const float *residual, size_t n, size_t d,
                                                                 const float *g, const float *b) {
    layer_norm_body(x, residual, n, d, g, b);
}
#endif

void ek_add_layer_norm(float *x, const float *residual, size_t n, size_t d, const float *g, const float *b) {
#if defined(__x86_64__)
    if (use_avx2()) {
        layer_norm_avx2(x, residual, n, d, g, b);
        return;
    }
#endif
    layer_norm_plain(x, residual, n, d, g, b);
}

/// erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7, under a float's own rounding at these sizes), with the
/// exponential above: branch-free, so GELU's loop vectorises.
static inline __attribute__((always_inline)) float erf_approx(float x) {
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    return copysignf(1.0f - poly * exp_approx(-a * a), x);
}

static inline __attribute__((always_inline)) void gelu_body(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
}

static void gelu_plain(float *x, size_t count) { gelu_body(x, count); }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void gelu_avx2(float *x, size_t count) { gelu_body(x, count); }
#endif

void ek_gelu(float *x, size_t count) {
#if defined(__x86_64__)
    if (use_avx2()) {
        gelu_avx2(x, count);
        return;
    }
#endif
    gelu_plain(x, count);
}
