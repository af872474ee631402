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
            if (rows == 6) {
                for (size_t p = 0; p < k; p++) {
                    __m256 w0 = _mm256_loadu_ps(block + p * PANEL), w1 = _mm256_loadu_ps(block + p * PANEL + 8);
                    __m256 v = _mm256_broadcast_ss(xi + p);
                    acc[0][0] = _mm256_fmadd_ps(v, w0, acc[0][0]);
                    acc[0][1] = _mm256_fmadd_ps(v, w1, acc[0][1]);
                    v = _mm256_broadcast_ss(xi + k + p);
                    acc[1][0] = _mm256_fmadd_ps(v, w0, acc[1][0]);
                    acc[1][1] = _mm256_fmadd_ps(v, w1, acc[1][1]);
                    v = _mm256_broadcast_ss(xi + 2 * k + p);
                    acc[2][0] = _mm256_fmadd_ps(v, w0, acc[2][0]);
                    acc[2][1] = _mm256_fmadd_ps(v, w1, acc[2][1]);
                    v = _mm256_broadcast_ss(xi + 3 * k + p);
                    acc[3][0] = _mm256_fmadd_ps(v, w0, acc[3][0]);
                    acc[3][1] = _mm256_fmadd_ps(v, w1, acc[3][1]);
                    v = _mm256_broadcast_ss(xi + 4 * k + p);
                    acc[4][0] = _mm256_fmadd_ps(v, w0, acc[4][0]);
                    acc[4][1] = _mm256_fmadd_ps(v, w1, acc[4][1]);
                    v = _mm256_broadcast_ss(xi + 5 * k + p);
                    acc[5][0] = _mm256_fmadd_ps(v, w0, acc[5][0]);
                    acc[5][1] = _mm256_fmadd_ps(v, w1, acc[5][1]);
                }
            } else {
                for (size_t p = 0; p < k; p++) {
                    __m256 w0 = _mm256_loadu_ps(block + p * PANEL), w1 = _mm256_loadu_ps(block + p * PANEL + 8);
                    for (size_t r = 0; r < rows; r++) {
                        __m256 v = _mm256_broadcast_ss(xi + r * k + p);
                        acc[r][0] = _mm256_fmadd_ps(v, w0, acc[r][0]);
                        acc[r][1] = _mm256_fmadd_ps(v, w1, acc[r][1]);
                    }
                }
            }
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
    static int fast = -1;
    if (fast < 0) fast = ek_has_fast_path();
    if (fast) {
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

/// Inlined into a portable and an AVX2/FMA copy (below): the compiler vectorises the loops over a head's dimensions
/// for the processor each copy is for.
static inline __attribute__((always_inline)) void attention_body(const float *qkv, size_t n, size_t heads,
                                                                 size_t headSize, float *scratch, float *out) {
    size_t d = heads * headSize, stride = 3 * d;
    float scale = 1.0f / sqrtf((float)headSize);
    for (size_t h = 0; h < heads; h++) {
        size_t qOffset = h * headSize, kOffset = d + h * headSize, vOffset = 2 * d + h * headSize;
        for (size_t i = 0; i < n; i++) {
            const float *q = qkv + i * stride + qOffset;
            float top = -INFINITY;
            for (size_t j = 0; j < n; j++) {
                const float *kv = qkv + j * stride + kOffset;
                float s = 0;
#pragma clang loop vectorize(enable)
                for (size_t t = 0; t < headSize; t++) s += q[t] * kv[t];
                s *= scale;
                scratch[j] = s;
                if (s > top) top = s;
            }
            float total = 0;
            for (size_t j = 0; j < n; j++) {
                scratch[j] = expf(scratch[j] - top);
                total += scratch[j];
            }
            float *o = out + i * d + h * headSize;
            for (size_t t = 0; t < headSize; t++) o[t] = 0;
            for (size_t j = 0; j < n; j++) {
                float weight = scratch[j] / total;
                const float *v = qkv + j * stride + vOffset;
                for (size_t t = 0; t < headSize; t++) o[t] += weight * v[t];
            }
        }
    }
}

static void attention_plain(const float *qkv, size_t n, size_t heads, size_t headSize, float *scratch, float *out) {
    attention_body(qkv, n, heads, headSize, scratch, out);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void attention_avx2(const float *qkv, size_t n, size_t heads,
                                                                size_t headSize, float *scratch, float *out) {
    attention_body(qkv, n, heads, headSize, scratch, out);
}
#endif

void ek_attention(const float *qkv, size_t n, size_t heads, size_t headSize, float *scratch, float *out) {
#if defined(__x86_64__)
    static int fast = -1;
    if (fast < 0) fast = ek_has_fast_path();
    if (fast) {
        attention_avx2(qkv, n, heads, headSize, scratch, out);
        return;
    }
#endif
    attention_plain(qkv, n, heads, headSize, scratch, out);
}

void ek_add_layer_norm(float *x, const float *residual, size_t n, size_t d, const float *g, const float *b) {
    for (size_t i = 0; i < n; i++) {
        float *row = x + i * d;
        double mean = 0;
        for (size_t t = 0; t < d; t++) {
            if (residual) row[t] += residual[i * d + t];
            mean += row[t];
        }
        mean /= (double)d;
        double variance = 0;
        for (size_t t = 0; t < d; t++) variance += (row[t] - mean) * (row[t] - mean);
        variance /= (double)d;
        float inverse = (float)(1.0 / sqrt(variance + 1e-12));
        for (size_t t = 0; t < d; t++) row[t] = (float)(row[t] - mean) * inverse * g[t] + b[t];
    }
}

/// erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7, under a float's own rounding at these sizes): a
/// third of the time of the C library's erff, which was a tenth of a query's encoding.
static inline float erf_approx(float x) {
    float sign = x < 0 ? -1.0f : 1.0f;
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    return sign * (1.0f - poly * expf(-a * a));
}

void ek_gelu(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
}
