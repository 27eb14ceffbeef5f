/* minGRU and minLSTM layers in one pass over time: gates and scan fused.
 *
 * The eager path makes about fifteen memory-bound passes over (batch, time,
 * hidden) tensors around its scan (sigmoid, g, 1 - z, z * g, the scan's sweeps,
 * and as many again backwards). Here each step reads its pre-activations once,
 * computes the gates in registers and updates the state, so the forward pass
 * reads `projected` once and writes `out` once, and the backward pass reads
 * `projected`, `out` and the output gradient once and writes the gradient of
 * `projected` once. The gates are recomputed in the backward pass rather than
 * saved: exp is cheaper than memory here. The bias is added here too, so the
 * matrix product before needs no pass to broadcast it and its gradient no pass
 * to sum.
 *
 * Layouts (C-contiguous; "big" tensors are float32, or bfloat16 when `half`):
 *   projected (batch, time, G * hidden), big: x W^T without the bias;
 *       G = 2 (gate | candidate) for minGRU, G = 3 (forget | input | candidate) for minLSTM
 *   bias (G * hidden) float32 or NULL;  h0, final, grad_final, grad_h0 (batch, hidden) float32
 *   out, grad_out (batch, time, hidden), big;  grad_projected like projected
 *   grad_bias_rows (batch, G * hidden) float32: each row's share of the bias gradient
 *   lengths (batch,) int64 or NULL: steps at or past a row's length keep its
 *   state (a = 1, b = 0) and output zero, as the eager path does.
 * Arithmetic is float32 throughout; bfloat16 is only how the big tensors are stored
 * (rounded to nearest even), so under autocast no pass is spent converting them.
 *
 * Channels are independent, so the work is split over (batch row, block of
 * BLOCK channels); each thread runs its blocks through all time steps. The
 * OpenMP runtime is the one torch already loaded (same soname, libgomp.so.1).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define BLOCK 64
#define INLINE static inline __attribute__((always_inline))

INLINE float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* The minGRU paper's g: x + 0.5 for x >= 0, else sigmoid(x). */
INLINE float positive(float x) { return x >= 0.0f ? x + 0.5f : sigmoid(x); }

/* dg/dx: 1 for x >= 0, else sigmoid'(x) = g (1 - g). */
INLINE float positive_slope(float x, float g) { return x >= 0.0f ? 1.0f : g - g * g; }

/* Element `index` of a big tensor; `half` is a constant once inlined, so each
 * specialisation has no branch in its inner loop. */
INLINE float load(const void *base, int64_t index, int half) {
    if (!half) return ((const float *)base)[index];
    uint32_t bits = (uint32_t)((const uint16_t *)base)[index] << 16;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

INLINE void store(void *base, int64_t index, float value, int half) {
    if (!half) {
        ((float *)base)[index] = value;
        return;
    }
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    bits += 0x7FFFu + ((bits >> 16) & 1u); /* round to nearest, ties to even */
    ((uint16_t *)base)[index] = (uint16_t)(bits >> 16);
}

/* The bias of each gate for one block of channels (zeros without a bias). */
INLINE void load_bias(int gates, const float *bias, int64_t hidden, int64_t first,
                      int64_t width, float shift[3][BLOCK]) {
    for (int k = 0; k < gates; k++)
        for (int64_t i = 0; i < width; i++)
            shift[k][i] = bias ? bias[k * hidden + first + i] : 0.0f;
}

/* One block of channels of one batch row through all its steps. Offsets count
 * elements from the start of this row's (time, ...) slab. */
INLINE void forward_block(int gates, int half, const void *projected, const float *bias,
                          const float *h0, int64_t length, void *out, float *final,
                          int64_t time, int64_t hidden, int64_t first, int64_t width) {
    float h[BLOCK], shift[3][BLOCK];
    memcpy(h, h0 + first, (size_t)width * sizeof(float));
    load_bias(gates, bias, hidden, first, width, shift);
    const int64_t stride = gates * hidden;
    for (int64_t t = 0; t < length; t++) {
        const int64_t row = t * stride + first, o = t * hidden + first;
        if (gates == 2) {
#pragma omp simd
            for (int64_t i = 0; i < width; i++) {
                float z = sigmoid(load(projected, row + i, half) + shift[0][i]);
                float g = positive(load(projected, row + hidden + i, half) + shift[1][i]);
                h[i] = (1.0f - z) * h[i] + z * g;
                store(out, o + i, h[i], half);
            }
        } else {
#pragma omp simd
            for (int64_t i = 0; i < width; i++) {
                float f = sigmoid(load(projected, row + i, half) + shift[0][i]);
                float in = sigmoid(load(projected, row + hidden + i, half) + shift[1][i]);
                float g = positive(load(projected, row + 2 * hidden + i, half) + shift[2][i]);
                h[i] = (f * h[i] + in * g) / (f + in);
                store(out, o + i, h[i], half);
            }
        }
    }
    for (int64_t t = length; t < time; t++)
        for (int64_t i = 0; i < width; i++) store(out, t * hidden + first + i, 0.0f, half);
    memcpy(final + first, h, (size_t)width * sizeof(float));
}

INLINE void backward_block(int gates, int half, const void *projected, const float *bias,
                           const float *h0, const void *out, const void *grad_out,
                           const float *grad_final, int64_t length, void *grad_projected,
                           float *grad_bias, float *grad_h0,
                           int64_t time, int64_t hidden, int64_t first, int64_t width) {
    float carry[BLOCK], shift[3][BLOCK], bias_sum[3][BLOCK], previous[BLOCK];
    memcpy(carry, grad_final + first, (size_t)width * sizeof(float));
    load_bias(gates, bias, hidden, first, width, shift);
    memset(bias_sum, 0, sizeof(bias_sum));
    const int64_t stride = gates * hidden;
    for (int64_t t = time - 1; t >= length; t--)
        for (int64_t i = 0; i < gates * hidden; i += hidden)
            for (int64_t j = 0; j < width; j++)
                store(grad_projected, t * stride + i + first + j, 0.0f, half);
    for (int64_t t = length - 1; t >= 0; t--) {
        const int64_t row = t * stride + first, o = t * hidden + first;
        if (t > 0)
            for (int64_t i = 0; i < width; i++) previous[i] = load(out, o - hidden + i, half);
        else
            memcpy(previous, h0 + first, (size_t)width * sizeof(float));
        if (gates == 2) {
#pragma omp simd
            for (int64_t i = 0; i < width; i++) {
                float d = carry[i] + load(grad_out, o + i, half);
                float z = sigmoid(load(projected, row + i, half) + shift[0][i]);
                float x = load(projected, row + hidden + i, half) + shift[1][i];
                float g = positive(x);
                /* h = (1 - z) h' + z g: dh/dz = g - h', dz/dgate = z (1 - z) */
                float grad_gate = d * (g - previous[i]) * (z - z * z);
                float grad_candidate = d * z * positive_slope(x, g);
                store(grad_projected, row + i, grad_gate, half);
                store(grad_projected, row + hidden + i, grad_candidate, half);
                bias_sum[0][i] += grad_gate;
                bias_sum[1][i] += grad_candidate;
                carry[i] = d * (1.0f - z);
            }
        } else {
#pragma omp simd
            for (int64_t i = 0; i < width; i++) {
                float d = carry[i] + load(grad_out, o + i, half);
                float f = sigmoid(load(projected, row + i, half) + shift[0][i]);
                float in = sigmoid(load(projected, row + hidden + i, half) + shift[1][i]);
                float x = load(projected, row + 2 * hidden + i, half) + shift[2][i];
                float g = positive(x);
                float total = f + in;
                float scale = d / (total * total);
                /* h = (f h' + i g) / (f + i): dh/df = i (h' - g) / s^2, dh/di = f (g - h') / s^2 */
                float grad_forget = scale * in * (previous[i] - g) * (f - f * f);
                float grad_input = scale * f * (g - previous[i]) * (in - in * in);
                float grad_candidate = d * in / total * positive_slope(x, g);
                store(grad_projected, row + i, grad_forget, half);
                store(grad_projected, row + hidden + i, grad_input, half);
                store(grad_projected, row + 2 * hidden + i, grad_candidate, half);
                bias_sum[0][i] += grad_forget;
                bias_sum[1][i] += grad_input;
                bias_sum[2][i] += grad_candidate;
                carry[i] = d * f / total;
            }
        }
    }
    memcpy(grad_h0 + first, carry, (size_t)width * sizeof(float));
    for (int k = 0; k < gates; k++)
        memcpy(grad_bias + k * hidden + first, bias_sum[k], (size_t)width * sizeof(float));
}

/* The storage specialisations. OpenMP outlines a parallel loop's body before constants
 * propagate into it, so `half` is fixed here, outside the parallel loops, for each inner
 * loop to vectorise without a branch. */
#define FORWARD_ARGS                                                                         \
    int gates, const void *projected, const float *bias, const float *h0, int64_t length,    \
        void *out, float *final, int64_t time, int64_t hidden, int64_t first, int64_t width
#define BACKWARD_ARGS                                                                        \
    int gates, const void *projected, const float *bias, const float *h0, const void *out,   \
        const void *grad_out, const float *grad_final, int64_t length, void *grad_projected, \
        float *grad_bias, float *grad_h0, int64_t time, int64_t hidden, int64_t first,       \
        int64_t width

static void forward_float(FORWARD_ARGS) {
    forward_block(gates, 0, projected, bias, h0, length, out, final, time, hidden, first, width);
}

static void forward_bfloat16(FORWARD_ARGS) {
    forward_block(gates, 1, projected, bias, h0, length, out, final, time, hidden, first, width);
}

static void backward_float(BACKWARD_ARGS) {
    backward_block(gates, 0, projected, bias, h0, out, grad_out, grad_final, length,
                   grad_projected, grad_bias, grad_h0, time, hidden, first, width);
}

static void backward_bfloat16(BACKWARD_ARGS) {
    backward_block(gates, 1, projected, bias, h0, out, grad_out, grad_final, length,
                   grad_projected, grad_bias, grad_h0, time, hidden, first, width);
}

/* Byte offset of element `index` of a big tensor. */
INLINE int64_t bytes(int64_t index, int half) { return index * (half ? 2 : 4); }

/* Channels in block `k`: BLOCK, or what is left of `hidden` in the last block. */
INLINE int64_t block_width(int64_t hidden, int64_t first) {
    return hidden - first < BLOCK ? hidden - first : BLOCK;
}

void minscan_forward(int gates, int half, const char *projected, const float *bias,
                     const float *h0, const int64_t *lengths, char *out, float *final,
                     int64_t batch, int64_t time, int64_t hidden, int threads) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t first = 0; first < hidden; first += BLOCK) {
            (half ? forward_bfloat16 : forward_float)(
                gates, projected + bytes(b * time * gates * hidden, half), bias, h0 + b * hidden,
                lengths ? lengths[b] : time, out + bytes(b * time * hidden, half),
                final + b * hidden, time, hidden, first, block_width(hidden, first));
        }
    }
}

/* grad_bias_rows (batch, gates * hidden): each row's share of the bias gradient; the
 * caller sums the rows (a deterministic order, unlike atomic adds). */
void minscan_backward(int gates, int half, const char *projected, const float *bias,
                      const float *h0, const int64_t *lengths, const char *out,
                      const char *grad_out, const float *grad_final, char *grad_projected,
                      float *grad_bias_rows, float *grad_h0,
                      int64_t batch, int64_t time, int64_t hidden, int threads) {
    const int64_t row = time * hidden, gate_row = time * gates * hidden;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t first = 0; first < hidden; first += BLOCK) {
            (half ? backward_bfloat16 : backward_float)(
                gates, projected + bytes(b * gate_row, half), bias, h0 + b * hidden,
                out + bytes(b * row, half), grad_out + bytes(b * row, half),
                grad_final + b * hidden, lengths ? lengths[b] : time,
                grad_projected + bytes(b * gate_row, half), grad_bias_rows + b * gates * hidden,
                grad_h0 + b * hidden, time, hidden, first, block_width(hidden, first));
        }
    }
}
