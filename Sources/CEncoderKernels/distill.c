#include "encoder_kernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint16_t float_to_half(float value) {
    uint32_t x;
    memcpy(&x, &value, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t exponent = (x >> 23) & 0xff;
    uint32_t mantissa = x & 0x7fffff;
    if (exponent == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 : 0));
    int e = (int)exponent - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        // Below the normal range: a subnormal half (or zero), rounded to nearest even.
        if (e < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1fff;
    // A carry into the exponent is right: it rounds up to the next power of two (or to infinity).
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t x;
    if (exponent == 0) {
        if (mantissa == 0) {
            x = sign;
        } else {
            uint32_t shifts = 0;
            while (!(mantissa & 0x400)) {
                mantissa <<= 1;
                shifts++;
            }
            x = sign | ((127 - 14 - shifts) << 23) | ((mantissa & 0x3ff) << 13);
        }
    } else if (exponent == 31) {
        x = sign | 0x7f800000 | (mantissa << 13);
    } else {
        x = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
    }
    float value;
    memcpy(&value, &x, sizeof value);
    return value;
}

void ek_to_f16(const float *x, size_t n, unsigned short *out) {
    for (size_t i = 0; i < n; i++) out[i] = float_to_half(x[i]);
}

void ek_from_f16(const unsigned short *h, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = half_to_float(h[i]);
}

void ek_dot_rows_f16_plain(const float *query, const unsigned short *rows, const int *positions, size_t count,
                           size_t dims, float *out) {
    for (size_t i = 0; i < count; i++) {
        const unsigned short *row = rows + (size_t)positions[i] * dims;
        float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t d = 0;
        for (; d + 8 <= dims; d += 8)
            for (size_t lane = 0; lane < 8; lane++) lanes[lane] += query[d + lane] * half_to_float(row[d + lane]);
        float sum = 0;
        for (; d < dims; d++) sum += query[d] * half_to_float(row[d]);
        for (size_t lane = 0; lane < 8; lane++) sum += lanes[lane];
        out[i] = sum;
    }
}

void ek_add_rows_f16_plain(const unsigned short *rows, const int *ids, size_t count, size_t dims, float *sum) {
    for (size_t i = 0; i < count; i++) {
        const unsigned short *row = rows + (size_t)ids[i] * dims;
        for (size_t d = 0; d < dims; d++) sum[d] += half_to_float(row[d]);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// Every processor with AVX2 and FMA also converts halves (F16C came a generation earlier).
__attribute__((target("avx2,fma,f16c"))) static void dot_rows_f16_avx2(const float *query,
                                                                        const unsigned short *rows,
                                                                        const int *positions, size_t count,
                                                                        size_t dims, float *out) {
    for (size_t i = 0; i < count; i++) {
        const unsigned short *row = rows + (size_t)positions[i] * dims;
        __m256 acc = _mm256_setzero_ps();
        size_t d = 0;
        for (; d + 8 <= dims; d += 8) {
            __m256 values = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + d)));
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(query + d), values, acc);
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, acc);
        float sum = 0;
        for (; d < dims; d++) sum += query[d] * half_to_float(row[d]);
        for (size_t lane = 0; lane < 8; lane++) sum += lanes[lane];
        out[i] = sum;
    }
}

__attribute__((target("avx2,fma,f16c"))) static void add_rows_f16_avx2(const unsigned short *rows, const int *ids,
                                                                        size_t count, size_t dims, float *sum) {
    for (size_t i = 0; i < count; i++) {
        const unsigned short *row = rows + (size_t)ids[i] * dims;
        size_t d = 0;
        for (; d + 8 <= dims; d += 8) {
            __m256 values = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + d)));
            _mm256_storeu_ps(sum + d, _mm256_add_ps(_mm256_loadu_ps(sum + d), values));
        }
        for (; d < dims; d++) sum[d] += half_to_float(row[d]);
    }
}

static int use_f16c(void) {
    static int fast = -1;
    if (fast < 0) fast = ek_has_fast_path();
    return fast;
}
#endif

void ek_dot_rows_f16(const float *query, const unsigned short *rows, const int *positions, size_t count,
                     size_t dims, float *out) {
#if defined(__x86_64__)
    if (use_f16c()) {
        dot_rows_f16_avx2(query, rows, positions, count, dims, out);
        return;
    }
#endif
    ek_dot_rows_f16_plain(query, rows, positions, count, dims, out);
}

void ek_add_rows_f16(const unsigned short *rows, const int *ids, size_t count, size_t dims, float *sum) {
#if defined(__x86_64__)
    if (use_f16c()) {
        add_rows_f16_avx2(rows, ids, count, dims, sum);
        return;
    }
#endif
    ek_add_rows_f16_plain(rows, ids, count, dims, sum);
}

/// y = Aᵀ(A x) + lambda · x, where row i of A averages the rows of x named by text i's pieces.
static void normal_product(const int *offsets, const int *tokens, size_t texts, size_t dims, size_t vocab,
                           float lambda, const float *x, float *y, float *mean) {
    for (size_t v = 0; v < vocab * dims; v++) y[v] = lambda * x[v];
    for (size_t i = 0; i < texts; i++) {
        int start = offsets[i], end = offsets[i + 1];
        size_t count = 0;
        memset(mean, 0, dims * sizeof(float));
        for (int p = start; p < end; p++) {
            if (tokens[p] < 0 || (size_t)tokens[p] >= vocab) continue;
            const float *row = x + (size_t)tokens[p] * dims;
            for (size_t d = 0; d < dims; d++) mean[d] += row[d];
            count++;
        }
        if (count == 0) continue;
        float scale = 1.0f / ((float)count * (float)count);
        for (size_t d = 0; d < dims; d++) mean[d] *= scale;
        for (int p = start; p < end; p++) {
            if (tokens[p] < 0 || (size_t)tokens[p] >= vocab) continue;
            float *row = y + (size_t)tokens[p] * dims;
            for (size_t d = 0; d < dims; d++) row[d] += mean[d];
        }
    }
}

/// Per column d: sums[d] = Σ_v a[v,d] · b[v,d], in double (tens of thousands of terms).
static void column_dots(const float *a, const float *b, size_t vocab, size_t dims, double *sums) {
    for (size_t d = 0; d < dims; d++) sums[d] = 0;
    for (size_t v = 0; v < vocab; v++) {
        const float *ra = a + v * dims, *rb = b + v * dims;
        for (size_t d = 0; d < dims; d++) sums[d] += (double)ra[d] * (double)rb[d];
    }
}

int ek_distill(const int *offsets, const int *tokens, size_t texts, const float *targets, size_t dims, size_t vocab,
               float lambda, int iterations, float *e) {
    size_t cells = vocab * dims;
    float *x = calloc(cells, sizeof(float)), *r = calloc(cells, sizeof(float));
    float *p = calloc(cells, sizeof(float)), *q = calloc(cells, sizeof(float));
    float *mean = calloc(dims ? dims : 1, sizeof(float));
    double *weights = calloc(vocab ? vocab : 1, sizeof(double));
    double *rs = calloc(dims ? dims : 1, sizeof(double)), *next = calloc(dims ? dims : 1, sizeof(double));
    double *curvature = calloc(dims ? dims : 1, sizeof(double));
    float *factor = calloc(dims ? dims : 1, sizeof(float));
    int status = -1;
    if (!x || !r || !p || !q || !mean || !weights || !rs || !next || !curvature || !factor) goto done;
    // b = Aᵀ targets (into r for now) and each piece's total weight, for the starting point.
    for (size_t i = 0; i < texts; i++) {
        int start = offsets[i], end = offsets[i + 1];
        size_t count = 0;
        for (int t = start; t < end; t++)
            if (tokens[t] >= 0 && (size_t)tokens[t] < vocab) count++;
        if (count == 0) continue;
        float share = 1.0f / (float)count;
        const float *target = targets + i * dims;
        for (int t = start; t < end; t++) {
            if (tokens[t] < 0 || (size_t)tokens[t] >= vocab) continue;
            float *row = r + (size_t)tokens[t] * dims;
            for (size_t d = 0; d < dims; d++) row[d] += share * target[d];
            weights[tokens[t]] += share;
        }
    }
    // Start: each piece's weighted mean target (close to the answer for pieces that mostly stand together).
    for (size_t v = 0; v < vocab; v++) {
        if (weights[v] <= 0) continue;
        float inverse = (float)(1.0 / weights[v]);
        for (size_t d = 0; d < dims; d++) x[v * dims + d] = r[v * dims + d] * inverse;
    }
    // r = b − M x; p = r.
    normal_product(offsets, tokens, texts, dims, vocab, lambda, x, q, mean);
    for (size_t c = 0; c < cells; c++) {
        r[c] -= q[c];
        p[c] = r[c];
    }
    column_dots(r, r, vocab, dims, rs);
    for (int step = 0; step < iterations; step++) {
        normal_product(offsets, tokens, texts, dims, vocab, lambda, p, q, mean);
        column_dots(p, q, vocab, dims, curvature);
        for (size_t d = 0; d < dims; d++) factor[d] = curvature[d] > 0 ? (float)(rs[d] / curvature[d]) : 0.0f;
        for (size_t v = 0; v < vocab; v++) {
            float *xv = x + v * dims, *rv = r + v * dims;
            const float *pv = p + v * dims, *qv = q + v * dims;
            for (size_t d = 0; d < dims; d++) {
                xv[d] += factor[d] * pv[d];
                rv[d] -= factor[d] * qv[d];
            }
        }
        column_dots(r, r, vocab, dims, next);
        for (size_t d = 0; d < dims; d++) {
            factor[d] = rs[d] > 0 ? (float)(next[d] / rs[d]) : 0.0f;
            rs[d] = next[d];
        }
        for (size_t v = 0; v < vocab; v++) {
            float *pv = p + v * dims;
            const float *rv = r + v * dims;
            for (size_t d = 0; d < dims; d++) pv[d] = rv[d] + factor[d] * pv[d];
        }
    }
    memcpy(e, x, cells * sizeof(float));
    status = 0;
done:
    free(x);
    free(r);
    free(p);
    free(q);
    free(mean);
    free(weights);
    free(rs);
    free(next);
    free(curvature);
    free(factor);
    return status;
}
