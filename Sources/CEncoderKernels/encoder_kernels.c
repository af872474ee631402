#include "encoder_kernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

// 4 rows × 16 columns of y per step: eight accumulators, the weight stripe (k × 16) stays in L1 while every row
// block of x passes over it.
__attribute__((target("avx2,fma"))) static void linear_avx2(const float *x, size_t n, size_t k, const float *wt,
                                                             size_t m, const float *bias, float *y) {
    size_t mFull = m - m % 16;
    for (size_t j = 0; j < mFull; j += 16) {
        __m256 bias0 = _mm256_loadu_ps(bias + j), bias1 = _mm256_loadu_ps(bias + j + 8);
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
            __m256 a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1;
            __m256 a20 = bias0, a21 = bias1, a30 = bias0, a31 = bias1;
            const float *x0 = x + i * k, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
            for (size_t p = 0; p < k; p++) {
                __m256 w0 = _mm256_loadu_ps(wt + p * m + j), w1 = _mm256_loadu_ps(wt + p * m + j + 8);
                __m256 v = _mm256_broadcast_ss(x0 + p);
                a00 = _mm256_fmadd_ps(v, w0, a00);
                a01 = _mm256_fmadd_ps(v, w1, a01);
                v = _mm256_broadcast_ss(x1 + p);
                a10 = _mm256_fmadd_ps(v, w0, a10);
                a11 = _mm256_fmadd_ps(v, w1, a11);
                v = _mm256_broadcast_ss(x2 + p);
                a20 = _mm256_fmadd_ps(v, w0, a20);
                a21 = _mm256_fmadd_ps(v, w1, a21);
                v = _mm256_broadcast_ss(x3 + p);
                a30 = _mm256_fmadd_ps(v, w0, a30);
                a31 = _mm256_fmadd_ps(v, w1, a31);
            }
            _mm256_storeu_ps(y + i * m + j, a00);
            _mm256_storeu_ps(y + i * m + j + 8, a01);
            _mm256_storeu_ps(y + (i + 1) * m + j, a10);
            _mm256_storeu_ps(y + (i + 1) * m + j + 8, a11);
            _mm256_storeu_ps(y + (i + 2) * m + j, a20);
            _mm256_storeu_ps(y + (i + 2) * m + j + 8, a21);
            _mm256_storeu_ps(y + (i + 3) * m + j, a30);
            _mm256_storeu_ps(y + (i + 3) * m + j + 8, a31);
        }
        for (; i < n; i++) {
            __m256 a0 = bias0, a1 = bias1;
            const float *xi = x + i * k;
            for (size_t p = 0; p < k; p++) {
                __m256 v = _mm256_broadcast_ss(xi + p);
                a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(wt + p * m + j), a0);
                a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(wt + p * m + j + 8), a1);
            }
            _mm256_storeu_ps(y + i * m + j, a0);
            _mm256_storeu_ps(y + i * m + j + 8, a1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = mFull; j < m; j++) {
            float sum = bias[j];
            for (size_t p = 0; p < k; p++) sum += x[i * k + p] * wt[p * m + j];
            y[i * m + j] = sum;
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

static void linear_plain(const float *x, size_t n, size_t k, const float *wt, size_t m, const float *bias,
                         float *y) {
    for (size_t i = 0; i < n; i++) {
        float *yi = y + i * m;
        memcpy(yi, bias, m * sizeof(float));
        for (size_t p = 0; p < k; p++) {
            float v = x[i * k + p];
            const float *w = wt + p * m;
            for (size_t j = 0; j < m; j++) yi[j] += v * w[j];
        }
    }
}

void ek_linear(const float *x, size_t n, size_t k, const float *wt, size_t m, const float *bias, float *y) {
#if defined(__x86_64__)
    static int fast = -1;
    if (fast < 0) fast = ek_has_fast_path();
    if (fast) {
        linear_avx2(x, n, k, wt, m, bias, y);
        return;
    }
#endif
    linear_plain(x, n, k, wt, m, bias, y);
}

void ek_attention(const float *qkv, size_t n, size_t heads, size_t headSize, float *scratch, float *out) {
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

void ek_gelu(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}
