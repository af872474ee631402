#include "encoder_kernels.h"

#include <stdlib.h>
#include <string.h>

void ek_dot_rows(const float *query, const float *rows, const int *positions, size_t count, size_t dims, float *out) {
    for (size_t i = 0; i < count; i++) {
        const float *row = rows + (size_t)positions[i] * dims;
        float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t d = 0;
        for (; d + 8 <= dims; d += 8)
            for (size_t lane = 0; lane < 8; lane++) lanes[lane] += query[d + lane] * row[d + lane];
        float sum = 0;
        for (; d < dims; d++) sum += query[d] * row[d];
        for (size_t lane = 0; lane < 8; lane++) sum += lanes[lane];
        out[i] = sum;
    }
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
