/* cycler_cli._native: optional compiled kernels for the hot loops of the .mpr read.
 *
 * Each function here has a numpy reference in the Python code that calls it, and gives the
 * same result bit for bit (tests/test_native.py compares the two on real and random
 * records). The Python code falls back to the numpy path when this module was not built
 * (no C compiler at install time), when CYCLER_NATIVE=0, or for any layout these loops do
 * not cover. Only the buffer protocol is used (no numpy C API), so the module builds against
 * any numpy.
 *
 * Floating point: every value is converted and combined in IEEE double exactly as numpy
 * does it (one operation at a time, no fused multiply-add: setup.py passes
 * -ffp-contract=off; never build this with -ffast-math).
 *
 * GPL-3.0-or-later, as the rest of cycler.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Type codes shared with cycler_cli/native.py (TYPE_CODES). Little-endian data only. */
enum { T_U1 = 1, T_U2, T_U4, T_U8, T_I1, T_I2, T_I4, T_I8, T_F4, T_F8, T_BOOL };

static int type_size(int code) {
    switch (code) {
    case T_U1: case T_I1: case T_BOOL: return 1;
    case T_U2: case T_I2: return 2;
    case T_U4: case T_I4: case T_F4: return 4;
    case T_U8: case T_I8: case T_F8: return 8;
    }
    return 0;
}

static int is_integer(int code) { return code >= T_U1 && code <= T_I8; }

/* The integer cases of a load: the value of integer type `code` at p, cast to OUT_T. */
#define INTEGER_LOADS(OUT_T)                                                           \
    case T_U1: return (OUT_T)p[0];                                                     \
    case T_I1: return (OUT_T)(int8_t)p[0];                                             \
    case T_U2: { uint16_t v; memcpy(&v, p, 2); return (OUT_T)v; }                      \
    case T_I2: { int16_t v; memcpy(&v, p, 2); return (OUT_T)v; }                       \
    case T_U4: { uint32_t v; memcpy(&v, p, 4); return (OUT_T)v; }                      \
    case T_I4: { int32_t v; memcpy(&v, p, 4); return (OUT_T)v; }                       \
    case T_U8: { uint64_t v; memcpy(&v, p, 8); return (OUT_T)v; }                      \
    case T_I8: { int64_t v; memcpy(&v, p, 8); return (OUT_T)v; }

/* One value of type `code` at p, as a double (numpy's cast to float64). */
static inline double load_f8(const uint8_t *p, int code) {
    switch (code) {
    INTEGER_LOADS(double)
    case T_F4: { float v; memcpy(&v, p, 4); return (double)v; }
    case T_F8: { double v; memcpy(&v, p, 8); return v; }
    }
    return NAN;
}

/* One integer value of type `code` at p, as an int64 (numpy's cast to int64: wraps uint64). */
static inline int64_t load_i8(const uint8_t *p, int code) {
    switch (code) {
    INTEGER_LOADS(int64_t)
    }
    return 0;
}

/* Can gather() copy a field of type src into a column of type dst (mask: a flag's bits)? */
static int supported(int src, int dst, int mask) {
    if (mask) return src == T_U1 && (dst == T_U1 || dst == T_BOOL);
    if (!type_size(src) || src == T_BOOL) return 0;
    if (dst == src || dst == T_F8) return 1;
    return dst == T_I8 && is_integer(src);
}

/* The loop of one field, specialised by the compiler for each (src, dst) pair it is
 * inlined with: a strided read from the records, a contiguous write. */
#define GATHER_LOOP(OUT_T, EXPR)                                   \
    do {                                                           \
        OUT_T *o = (OUT_T *)out;                                   \
        for (Py_ssize_t i = 0; i < n; i++) {                       \
            const uint8_t *p = base + i * rec;                     \
            o[i] = EXPR;                                           \
        }                                                          \
    } while (0)

static void gather_field(const uint8_t *base, Py_ssize_t n, Py_ssize_t rec, int src, int dst, int mask, char *out) {
    if (mask) {
        uint8_t m = (uint8_t)mask;
        if (dst == T_U1) GATHER_LOOP(uint8_t, (uint8_t)(p[0] & m));
        else GATHER_LOOP(uint8_t, (uint8_t)((p[0] & m) != 0));
        return;
    }
    if (dst == src) {
        int size = type_size(src);
        switch (size) {
        case 1: GATHER_LOOP(uint8_t, p[0]); return;
        case 2: { uint16_t *o = (uint16_t *)out; for (Py_ssize_t i = 0; i < n; i++) memcpy(o + i, base + i * rec, 2); return; }
        case 4: { uint32_t *o = (uint32_t *)out; for (Py_ssize_t i = 0; i < n; i++) memcpy(o + i, base + i * rec, 4); return; }
        case 8: { uint64_t *o = (uint64_t *)out; for (Py_ssize_t i = 0; i < n; i++) memcpy(o + i, base + i * rec, 8); return; }
        }
        return;
    }
    if (dst == T_F8) {
        switch (src) {
        case T_F4: GATHER_LOOP(double, load_f8(p, T_F4)); return;
        case T_U1: GATHER_LOOP(double, load_f8(p, T_U1)); return;
        case T_U2: GATHER_LOOP(double, load_f8(p, T_U2)); return;
        case T_U4: GATHER_LOOP(double, load_f8(p, T_U4)); return;
        case T_I4: GATHER_LOOP(double, load_f8(p, T_I4)); return;
        default: GATHER_LOOP(double, load_f8(p, src)); return;
        }
    }
    /* dst == T_I8 from an integer */
    switch (src) {
    case T_U2: GATHER_LOOP(int64_t, load_i8(p, T_U2)); return;
    case T_U4: GATHER_LOOP(int64_t, load_i8(p, T_U4)); return;
    case T_I4: GATHER_LOOP(int64_t, load_i8(p, T_I4)); return;
    default: GATHER_LOOP(int64_t, load_i8(p, src)); return;
    }
}

static int get_records(PyObject *obj, Py_buffer *view, Py_ssize_t n, Py_ssize_t rec) {
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return -1;
    if (n < 0 || rec <= 0 || (n > 0 && view->len / rec < n)) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "records: the buffer is shorter than n records");
        return -1;
    }
    return 0;
}

static int get_column(PyObject *obj, Py_buffer *view, Py_ssize_t start, Py_ssize_t n, int size, int writable) {
    if (PyObject_GetBuffer(obj, view, writable ? (PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) : PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (start < 0 || n < 0 || (start + n) > view->len / size) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "column: shorter than start + n values");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(supported_doc,
"supported(src_code, dst_code, flag_mask) -> bool\n\n"
"Does gather copy a field of type src_code into a column of type dst_code as numpy's\n"
"assignment would (flag_mask not 0: a flag byte into a uint8 or bool column)?");

static PyObject *supported_py(PyObject *self, PyObject *args) {
    int src, dst, mask;
    if (!PyArg_ParseTuple(args, "iii", &src, &dst, &mask)) return NULL;
    return PyBool_FromLong(supported(src, dst, mask));
}

/* gather()'s check of field j (ValueError set, -1, when it fails). */
static int check_field(Py_ssize_t j, Py_ssize_t offset, int src, int dst, int mask, Py_ssize_t rec) {
    if (!supported(src, dst, mask) || offset < 0 || offset + type_size(src) > rec) {
        PyErr_Format(PyExc_ValueError, "field %zd: unsupported (offset %zd, src %d, dst %d, mask %d)", j, offset, src, dst, mask);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(gather_doc,
"gather(records, n, record_bytes, start, fields)\n\n"
"Copy fields of the first n records into columns, from index start on. fields: a sequence of\n"
"(offset, src_code, column, dst_code, flag_mask) tuples; column is a writable contiguous\n"
"buffer of dst_code values. Same values as numpy's `column[start:start+n] = records[field]`\n"
"(`records['flags'] & mask`, or `!= 0` for a bool column, when flag_mask is not 0).");

static PyObject *gather(PyObject *self, PyObject *args) {
    PyObject *records_obj, *fields;
    Py_ssize_t n, rec, start;
    if (!PyArg_ParseTuple(args, "OnnnO", &records_obj, &n, &rec, &start, &fields)) return NULL;
    Py_buffer records;
    if (get_records(records_obj, &records, n, rec) < 0) return NULL;
    PyObject *seq = PySequence_Fast(fields, "fields must be a sequence");
    if (!seq) { PyBuffer_Release(&records); return NULL; }
    Py_ssize_t nf = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t j = 0; j < nf; j++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, j);
        Py_ssize_t offset;
        int src, dst, mask;
        PyObject *column_obj;
        if (!PyArg_ParseTuple(item, "niOii", &offset, &src, &column_obj, &dst, &mask)) goto fail;
        if (check_field(j, offset, src, dst, mask, rec) < 0) goto fail;
        Py_buffer column;
        if (get_column(column_obj, &column, start, n, type_size(dst), 1) < 0) goto fail;
        Py_BEGIN_ALLOW_THREADS
        gather_field((const uint8_t *)records.buf + offset, n, rec, src, dst, mask, (char *)column.buf + start * type_size(dst));
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&column);
    }
    Py_DECREF(seq);
    PyBuffer_Release(&records);
    Py_RETURN_NONE;
fail:
    Py_DECREF(seq);
    PyBuffer_Release(&records);
    return NULL;
}

enum { MODE_CC = 1, MODE_REST = 3 };

/* What derive() does, for the arguments it checked. */
typedef struct { int kind; Py_ssize_t off_c; int code_c; Py_ssize_t off_q; int code_q; double low, high; } derive_t;

/* derive()'s loop over n records r (record_bytes rec): t, m and cur point at the chunk's first
 * point; last_t is the time before it; the three ratio counts are added into counts. */
static void derive_chunk(const derive_t *d, const uint8_t *r, Py_ssize_t n, Py_ssize_t rec, const double *t,
                         const uint8_t *m, double *cur, double last_t, long long counts[3]) {
    int has_q = d->off_q >= 0;
    long long n_ratios = 0, n_low = 0, n_high = 0;
    double prev = last_t;
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint8_t *p = r + i * rec;
        double from_q = NAN;
        if (has_q) {
            double dt = t[i] - prev;
            if (dt <= 0) dt = NAN;
            from_q = load_f8(p + d->off_q, d->code_q) * 3600.0;
            from_q = from_q / dt;
        }
        prev = t[i];
        if (d->kind == 0) {
            double c = load_f8(p + d->off_c, d->code_c);
            if (m[i] == MODE_CC) {
                if (has_q) {
                    double ratio = from_q / c;
                    n_ratios += isfinite(ratio) ? 1 : 0;
                    n_low += ratio < d->low ? 1 : 0;
                    n_high += ratio > d->high ? 1 : 0;
                }
                cur[i] = c;
            } else {
                cur[i] = m[i] == MODE_REST ? 0.0 : from_q;
            }
        } else {
            cur[i] = (m != NULL && m[i] == MODE_REST) ? 0.0 : from_q;
        }
    }
    counts[0] += n_ratios;
    counts[1] += n_low;
    counts[2] += n_high;
}

/* derive()'s argument checks (ValueError set, -1, when they fail). */
static int check_derive(const derive_t *d, int has_mode, Py_ssize_t rec) {
    int has_q = d->off_q >= 0;
    if (d->kind != 0 && d->kind != 1) {
        PyErr_Format(PyExc_ValueError, "kind must be 0 or 1, not %d", d->kind);
        return -1;
    }
    if ((d->kind == 0 && (!has_mode || d->off_c < 0)) || (d->kind == 1 && !has_q)) {
        PyErr_Format(PyExc_ValueError, "kind %d: missing mode, control or dq", d->kind);
        return -1;
    }
    if ((d->off_c >= 0 && (!supported(d->code_c, T_F8, 0) || d->off_c + type_size(d->code_c) > rec)) ||
        (has_q && (!supported(d->code_q, T_F8, 0) || d->off_q + type_size(d->code_q) > rec))) {
        PyErr_SetString(PyExc_ValueError, "unsupported control or dq field");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(derive_doc,
"derive(records, n, record_bytes, kind, control_offset, control_code, dq_offset, dq_code,\n"
"       time, mode, start, last_time, current, ratio_low, ratio_high)\n\n"
"The current in mA of points start..start+n-1 from their records, into current (float64),\n"
"as cycler_cli.io.biologic_common.CurrentDerivation.add computes it. kind 0 (set point):\n"
"control on galvanostatic points (mode 1), dq*3600/dt elsewhere (NaN without dq: dq_offset\n"
"< 0), 0 on rest (mode 3); kind 1 (charge): dq*3600/dt, 0 on rest when mode is given (else\n"
"None). dt is time[i] - time[i-1] (last_time before the first), NaN where it is not > 0.\n"
"time and mode (uint8) are the columns, indexed from start like current. Returns the counts\n"
"(finite ratios, ratios < ratio_low, ratios > ratio_high) of dq*3600/dt / control over\n"
"galvanostatic points (zeros unless kind 0 with dq).");

static PyObject *derive(PyObject *self, PyObject *args) {
    PyObject *records_obj, *time_obj, *mode_obj, *current_obj;
    Py_ssize_t n, rec, start, off_c, off_q;
    int kind, code_c, code_q;
    double last_t, low, high;
    if (!PyArg_ParseTuple(args, "OnnininiOOndOdd", &records_obj, &n, &rec, &kind, &off_c, &code_c, &off_q, &code_q,
                          &time_obj, &mode_obj, &start, &last_t, &current_obj, &low, &high))
        return NULL;
    int has_mode = mode_obj != Py_None;
    derive_t d = {kind, off_c, code_c, off_q, code_q, low, high};
    if (check_derive(&d, has_mode, rec) < 0) return NULL;
    Py_buffer records, time, mode, current;
    if (get_records(records_obj, &records, n, rec) < 0) return NULL;
    if (get_column(time_obj, &time, start, n, 8, 0) < 0) { PyBuffer_Release(&records); return NULL; }
    if (has_mode && get_column(mode_obj, &mode, start, n, 1, 0) < 0) {
        PyBuffer_Release(&time); PyBuffer_Release(&records); return NULL;
    }
    if (get_column(current_obj, &current, start, n, 8, 1) < 0) {
        if (has_mode) PyBuffer_Release(&mode);
        PyBuffer_Release(&time); PyBuffer_Release(&records); return NULL;
    }
    long long counts[3] = {0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    derive_chunk(&d, (const uint8_t *)records.buf, n, rec, (const double *)time.buf + start,
                 has_mode ? (const uint8_t *)mode.buf + start : NULL, (double *)current.buf + start, last_t, counts);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&current);
    if (has_mode) PyBuffer_Release(&mode);
    PyBuffer_Release(&time);
    PyBuffer_Release(&records);
    return Py_BuildValue("LLL", counts[0], counts[1], counts[2]);
}

/* ---------------------------------------------------------------------------------------
 * The segmentation's two streaming passes (cycler_cli/analysis/segment.py). Same blocks,
 * same elementwise operations and the same summation order as the numpy code:
 * np.add.reduceat sums a piece as its first term plus numpy's pairwise sum of the rest
 * (pairwise() below is numpy's DOUBLE_pairwise_sum: 8 accumulators up to 128 terms, halves
 * above), and np.bincount / `acc[...] +=` add the pieces in order.
 * ------------------------------------------------------------------------------------- */

static double pairwise(const double *a, Py_ssize_t n) {
    if (n < 8) {
        double res = 0.;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        Py_ssize_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

/* One piece of np.add.reduceat (n >= 1 terms). */
static inline double piece_sum(const double *a, Py_ssize_t n) {
    return n == 1 ? a[0] : a[0] + pairwise(a + 1, n - 1);
}

/* |x|, 0 where x is not finite (segment._abs_finite). */
static inline double abs_finite(double x) {
    double v = fabs(x);
    return v < INFINITY ? v : 0.0;
}

/* First index in sorted a[0..n) whose value is > x (np.searchsorted side="right"). */
static Py_ssize_t upper_bound(const int64_t *a, Py_ssize_t n, int64_t x) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* first_on must be strictly increasing point indices in [0, n): the piece bounds computed
 * from it then stay inside each block (checked before any pass, so no index can go wrong). */
static int check_first_on(const int64_t *first_on, Py_ssize_t n_half, Py_ssize_t n) {
    for (Py_ssize_t h = 0; h < n_half; h++) {
        if (first_on[h] < 0 || first_on[h] >= n || (h > 0 && first_on[h] <= first_on[h - 1])) {
            PyErr_Format(PyExc_ValueError, "first_on must be strictly increasing indices below %zd", n);
            return -1;
        }
    }
    return 0;
}

/* The half-cycle slots of a block's intervals a..b-1 (labelled by their end points a+1..b, as
 * segment._block_labels does): slots *lo..*hi, one piece each, in order. */
static inline void block_slots(const int64_t *first_on, Py_ssize_t n_half, Py_ssize_t a, Py_ssize_t b,
                               Py_ssize_t *lo, Py_ssize_t *hi) {
    *lo = upper_bound(first_on, n_half, (int64_t)(a + 1));
    *hi = upper_bound(first_on, n_half, (int64_t)b);
}

/* Where slot h's piece ends, as an offset into the block's k intervals (exclusive). */
static inline Py_ssize_t piece_end(const int64_t *first_on, Py_ssize_t h, Py_ssize_t hi, Py_ssize_t a, Py_ssize_t k) {
    return h < hi ? (Py_ssize_t)(first_on[h] - (a + 1)) : k;
}

/* Two block-sized float64 scratch arrays for the passes over a run's n - 1 intervals (NULL
 * when there are none); -1 with MemoryError set when they cannot be had. */
static int block_scratch(Py_ssize_t n, Py_ssize_t block, double **x, double **y) {
    Py_ssize_t m = n - 1 < block ? n - 1 : block;
    *x = *y = NULL;
    if (m <= 0) return 0;
    *x = PyMem_RawMalloc((size_t)m * sizeof(double));
    *y = PyMem_RawMalloc((size_t)m * sizeof(double));
    if (!*x || !*y) {
        PyMem_RawFree(*x);
        PyMem_RawFree(*y);
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

typedef struct { char *data; Py_ssize_t len, cap, size; } grow_t;

static int grow_push(grow_t *g, const void *value) {
    if (g->len == g->cap) {
        Py_ssize_t cap = g->cap ? 2 * g->cap : 1024;
        char *data = PyMem_RawRealloc(g->data, (size_t)cap * g->size);
        if (!data) return -1;
        g->data = data;
        g->cap = cap;
    }
    memcpy(g->data + g->len * g->size, value, g->size);
    g->len++;
    return 0;
}

PyDoc_STRVAR(sign_runs_doc,
"sign_runs(time, current, mode, threshold, sign, block) -> (starts, charges, backwards)\n\n"
"segment._sign_and_runs: writes the int8 direction of every point into sign (+1, -1, 0:\n"
"|I| finite and above threshold, and mode (1-byte, or None) not 3); returns the runs of equal\n"
"direction as bytes of int64 starts and float64 charges (sum of |I|·(Δt before + Δt after)/2\n"
"over the run's points, Δt cleaned to 0 where not positive and finite, block by block as\n"
"the numpy code sums them) and the number of intervals where time goes backwards.");

static PyObject *sign_runs(PyObject *self, PyObject *args) {
    PyObject *time_obj, *cur_obj, *mode_obj, *sign_obj;
    double threshold;
    Py_ssize_t block;
    if (!PyArg_ParseTuple(args, "OOOdOn", &time_obj, &cur_obj, &mode_obj, &threshold, &sign_obj, &block)) return NULL;
    if (block < 1) return PyErr_Format(PyExc_ValueError, "block must be >= 1");
    Py_buffer tb, cb, mb, sb;
    if (PyObject_GetBuffer(cur_obj, &cb, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    Py_ssize_t n = cb.len / 8;
    int has_mode = mode_obj != Py_None, ok = 0;
    PyObject *result = NULL;
    if (get_column(time_obj, &tb, 0, n, 8, 0) < 0) { PyBuffer_Release(&cb); return NULL; }
    if (has_mode && get_column(mode_obj, &mb, 0, n, 1, 0) < 0) goto release_t;
    if (get_column(sign_obj, &sb, 0, n, 1, 1) < 0) goto release_m;
    const double *t = (const double *)tb.buf, *cur = (const double *)cb.buf;
    const int8_t *mode = has_mode ? (const int8_t *)mb.buf : NULL;
    int8_t *sign = (int8_t *)sb.buf;
    grow_t starts = {NULL, 0, 0, sizeof(int64_t)}, sums = {NULL, 0, 0, sizeof(double)};
    long long backwards = 0;
    Py_ssize_t m = n < block ? n : block;
    double *w = PyMem_RawMalloc((size_t)(m > 0 ? m : 1) * sizeof(double));
    if (!w) { PyErr_NoMemory(); goto release_s; }
    double half_prev = 0.0;
    int8_t last_sign = 0;
    ok = 1;
    for (Py_ssize_t a = 0; a < n && ok; a += block) {
        Py_ssize_t b = a + block < n ? a + block : n;
        /* directions and midpoint weights of points a..b-1 */
        for (Py_ssize_t i = a; i < b; i++) {
            double ai = abs_finite(cur[i]);
            int on = ai > threshold;
            if (mode && mode[i] == 3) on = 0;
            sign[i] = (int8_t)(on ? (cur[i] < 0.0 ? -1 : 1) : 0);
            double half = 0.0;
            if (i < n - 1) {
                double dt = t[i + 1] - t[i];
                if (dt < 0) backwards++;
                if (!(dt > 0 && dt < INFINITY)) dt = 0.0;
                half = dt * 0.5;
            }
            w[i - a] = (half + half_prev) * ai;
            half_prev = half;
        }
        /* pieces of one direction inside the block; the first continues the previous run
           when the direction did not change at the block start */
        Py_ssize_t p0 = a;
        for (Py_ssize_t i = a + 1; i <= b; i++) {
            if (i < b && sign[i] == sign[i - 1]) continue;
            if (!(p0 == a && a > 0 && sign[a] == last_sign)) {  /* a new run, its charge from 0 */
                int64_t start = (int64_t)p0;
                double zero = 0.0;
                if (grow_push(&starts, &start) < 0 || grow_push(&sums, &zero) < 0) { ok = 0; break; }
            }
            ((double *)sums.data)[sums.len - 1] += piece_sum(w + (p0 - a), i - p0);
            p0 = i;
        }
        last_sign = sign[b - 1];
    }
    PyMem_RawFree(w);
    if (!ok) { PyErr_NoMemory(); }
    else {
        result = Py_BuildValue("y#y#L", starts.data ? starts.data : "", starts.len * (Py_ssize_t)sizeof(int64_t),
                               sums.data ? sums.data : "", sums.len * (Py_ssize_t)sizeof(double), backwards);
    }
    PyMem_RawFree(starts.data);
    PyMem_RawFree(sums.data);
release_s:
    PyBuffer_Release(&sb);
release_m:
    if (has_mode) PyBuffer_Release(&mb);
release_t:
    PyBuffer_Release(&tb);
    PyBuffer_Release(&cb);
    return result;
}

/* The trapezoids of intervals 0..k-1 of one block (points 0..k), 0 where not counted:
 * |I| and |V·I| of each point are computed once and carried to the next interval. */
static void integrate_block(const double *t, const double *v, const double *c, const int8_t *s, Py_ssize_t k,
                            double *restrict q, double *restrict e) {
    double a0 = abs_finite(c[0]), p0 = abs_finite(v[0]) * a0;
    for (Py_ssize_t j = 0; j < k; j++) {
        double hdt = t[j + 1] - t[j];
        int counted = s[j + 1] != 0 && s[j + 1] == s[j] && hdt > 0 && hdt < INFINITY;
        hdt *= 0.5;
        double a1 = abs_finite(c[j + 1]);
        double p1 = abs_finite(v[j + 1]) * a1;
        double qj = (a0 + a1) * hdt, ej = (p0 + p1) * hdt;
        q[j] = counted ? qj : 0.0;
        e[j] = counted ? ej : 0.0;
        a0 = a1;
        p0 = p1;
    }
}

PyDoc_STRVAR(integrals_doc,
"integrals(time, voltage, current, sign, first_on, block, acc_q, acc_e)\n\n"
"segment._integrals' sums: for every interval i (both ends on current in one direction, Δt\n"
"positive and finite) the trapezoids (|I_i| + |I_i+1|)·Δt/2 and (|V_i·I_i| + |V_i+1·I_i+1|)·Δt/2\n"
"(|x| taken as 0 where not finite) are added, per block of `block` intervals and per piece of\n"
"one half-cycle, into acc_q[h] and acc_e[h] (h: the half-cycle of the interval's end point,\n"
"from the sorted int64 first_on; 0 before the first). acc_q and acc_e have len(first_on) + 1\n"
"float64 slots and are added to.");

static PyObject *integrals(PyObject *self, PyObject *args) {
    PyObject *t_obj, *v_obj, *c_obj, *s_obj, *f_obj, *q_obj, *e_obj;
    Py_ssize_t block;
    if (!PyArg_ParseTuple(args, "OOOOOnOO", &t_obj, &v_obj, &c_obj, &s_obj, &f_obj, &block, &q_obj, &e_obj)) return NULL;
    if (block < 1) return PyErr_Format(PyExc_ValueError, "block must be >= 1");
    Py_buffer tb, vb, cb, sb, fb, qb, eb;
    PyObject *result = NULL;
    if (PyObject_GetBuffer(t_obj, &tb, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    Py_ssize_t n = tb.len / 8;
    if (get_column(v_obj, &vb, 0, n, 8, 0) < 0) goto r0;
    if (get_column(c_obj, &cb, 0, n, 8, 0) < 0) goto r1;
    if (get_column(s_obj, &sb, 0, n, 1, 0) < 0) goto r2;
    if (PyObject_GetBuffer(f_obj, &fb, PyBUF_C_CONTIGUOUS) < 0) goto r3;
    Py_ssize_t n_half = fb.len / 8;
    if (get_column(q_obj, &qb, 0, n_half + 1, 8, 1) < 0) goto r4;
    if (get_column(e_obj, &eb, 0, n_half + 1, 8, 1) < 0) goto r5;
    if (check_first_on(fb.buf, n_half, n) < 0) goto r6;
    {
        const double *t = tb.buf, *v = vb.buf, *c = cb.buf;
        const int8_t *s = sb.buf;
        const int64_t *first_on = fb.buf;
        double *acc_q = qb.buf, *acc_e = eb.buf;
        double *q, *e;
        if (block_scratch(n, block, &q, &e) < 0) goto r6;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t a = 0; a < n - 1; a += block) {
            Py_ssize_t b = a + block < n - 1 ? a + block : n - 1, k = b - a;
            integrate_block(t + a, v + a, c + a, s + a, k, q, e);
            Py_ssize_t lo, hi, p0 = 0;
            block_slots(first_on, n_half, a, b, &lo, &hi);
            for (Py_ssize_t h = lo; h <= hi; h++) {
                Py_ssize_t p1 = piece_end(first_on, h, hi, a, k);
                acc_q[h] += piece_sum(q + p0, p1 - p0);
                acc_e[h] += piece_sum(e + p0, p1 - p0);
                p0 = p1;
            }
        }
        Py_END_ALLOW_THREADS
        PyMem_RawFree(q);
        PyMem_RawFree(e);
        result = Py_None;
        Py_INCREF(result);
    }
r6:
    PyBuffer_Release(&eb);
r5:
    PyBuffer_Release(&qb);
r4:
    PyBuffer_Release(&fb);
r3:
    PyBuffer_Release(&sb);
r2:
    PyBuffer_Release(&cb);
r1:
    PyBuffer_Release(&vb);
r0:
    PyBuffer_Release(&tb);
    return result;
}

PyDoc_STRVAR(charge_column_doc,
"charge_column(charge, sign, first_on, hc_sign, block, acc)\n\n"
"segment.charge_from_column's block pass: the increments dq = charge[i+1] - charge[i] of the\n"
"intervals with an on-current end (sign != 0 at either; 0 where dq is not finite or the\n"
"interval is rest to rest), per block of `block` intervals and per piece of one half-cycle\n"
"h (from first_on, as in integrals): acc[h] += the piece's sum of max(dq, 0) when\n"
"hc_sign[h] > 0, minus its sum of min(dq, 0) when hc_sign[h] < 0 (hc_sign: int8, slot 0 for\n"
"the points before the first half-cycle). max/min as numpy's (the second operand on a tie).");

static PyObject *charge_column(PyObject *self, PyObject *args) {
    PyObject *q_obj, *s_obj, *f_obj, *h_obj, *acc_obj;
    Py_ssize_t block;
    if (!PyArg_ParseTuple(args, "OOOOnO", &q_obj, &s_obj, &f_obj, &h_obj, &block, &acc_obj)) return NULL;
    if (block < 1) return PyErr_Format(PyExc_ValueError, "block must be >= 1");
    Py_buffer qb, sb, fb, hb, ab;
    PyObject *result = NULL;
    if (PyObject_GetBuffer(q_obj, &qb, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    Py_ssize_t n = qb.len / 8;
    if (get_column(s_obj, &sb, 0, n, 1, 0) < 0) goto r0;
    if (PyObject_GetBuffer(f_obj, &fb, PyBUF_C_CONTIGUOUS) < 0) goto r1;
    Py_ssize_t n_half = fb.len / 8;
    if (get_column(h_obj, &hb, 0, n_half + 1, 1, 0) < 0) goto r2;
    if (get_column(acc_obj, &ab, 0, n_half + 1, 8, 1) < 0) goto r3;
    if (check_first_on(fb.buf, n_half, n) < 0) goto r4;
    {
        const double *q = qb.buf;
        const int8_t *s = sb.buf, *hs = hb.buf;
        const int64_t *first_on = fb.buf;
        double *acc = ab.buf;
        double *up, *down;
        if (block_scratch(n, block, &up, &down) < 0) goto r4;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t a = 0; a < n - 1; a += block) {
            Py_ssize_t b = a + block < n - 1 ? a + block : n - 1, k = b - a;
            for (Py_ssize_t j = 0; j < k; j++) {  /* simple loops: vectorised */
                double dq = q[a + j + 1] - q[a + j];
                up[j] = (dq < INFINITY) & (dq > -INFINITY) ? dq : 0.0;
            }
            for (Py_ssize_t j = 0; j < k; j++)
                if ((s[a + j + 1] == 0) & (s[a + j] == 0)) up[j] = 0.0;  /* rest to rest */
            for (Py_ssize_t j = 0; j < k; j++) {
                double dq = up[j];
                down[j] = dq < 0.0 ? dq : 0.0;
                up[j] = dq > 0.0 ? dq : 0.0;
            }
            Py_ssize_t lo, hi, p0 = 0;
            block_slots(first_on, n_half, a, b, &lo, &hi);
            for (Py_ssize_t h = lo; h <= hi; h++) {
                Py_ssize_t p1 = piece_end(first_on, h, hi, a, k);
                double u = piece_sum(up + p0, p1 - p0), d = piece_sum(down + p0, p1 - p0);
                acc[h] += hs[h] > 0 ? u : (hs[h] < 0 ? -d : 0.0);
                p0 = p1;
            }
        }
        Py_END_ALLOW_THREADS
        PyMem_RawFree(up);
        PyMem_RawFree(down);
        result = Py_None;
        Py_INCREF(result);
    }
r4:
    PyBuffer_Release(&ab);
r3:
    PyBuffer_Release(&hb);
r2:
    PyBuffer_Release(&fb);
r1:
    PyBuffer_Release(&sb);
r0:
    PyBuffer_Release(&qb);
    return result;
}

#ifndef _WIN32
#include <errno.h>
#include <unistd.h>

PyDoc_STRVAR(stage_doc,
"stage(fd, offset, lo, hi, record_bytes, chunk, buffer, fields, derive, time, mode, current, last_time)\n\n"
"Records lo..hi-1 of the data module at byte `offset` of file descriptor fd, read `chunk`\n"
"records at a time (pread, which leaves the file position alone) into buffer, each chunk\n"
"converted as gather(buffer, k, record_bytes, start, fields) and then, when derive is not None,\n"
"as derive() would (derive: (kind, control_offset, control_code, dq_offset, dq_code,\n"
"ratio_low, ratio_high); time, mode, current: the columns; last_time: the time before lo),\n"
"all without the GIL, so two threads can stage two stretches of one file at once. The time\n"
"column must be among the fields. Returns (status, where, n_ratios, n_low, n_high): status 0\n"
"done, 1 the file ended at byte `where`, 2 a read error (errno in `where`).");

#define STAGE_MAX_FIELDS 64

static PyObject *stage(PyObject *self, PyObject *args) {
    int fd;
    long long offset;
    Py_ssize_t lo, hi, rec, chunk;
    PyObject *buffer_obj, *fields, *derive_obj, *time_obj, *mode_obj, *current_obj;
    double last_t;
    if (!PyArg_ParseTuple(args, "iLnnnnOOOOOOd", &fd, &offset, &lo, &hi, &rec, &chunk, &buffer_obj, &fields,
                          &derive_obj, &time_obj, &mode_obj, &current_obj, &last_t))
        return NULL;
    if (lo < 0 || hi < lo || rec <= 0 || chunk <= 0 || offset < 0)
        return PyErr_Format(PyExc_ValueError, "stage: bad range");
    struct { Py_ssize_t offset; int src, dst, mask; Py_buffer col; } f[STAGE_MAX_FIELDS];
    Py_ssize_t nf = 0;
    int has_derive = derive_obj != Py_None, has_mode = mode_obj != Py_None, held_t = 0, held_m = 0, held_c = 0;
    derive_t d = {0, -1, 0, -1, 0, 0.0, 0.0};
    Py_buffer buf, time, mode, current;
    PyObject *result = NULL, *seq = NULL;
    if (PyObject_GetBuffer(buffer_obj, &buf, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (buf.len / rec < (chunk < hi - lo ? chunk : hi - lo)) {
        PyErr_SetString(PyExc_ValueError, "stage: the buffer is shorter than a chunk");
        goto done;
    }
    seq = PySequence_Fast(fields, "fields must be a sequence");
    if (!seq) goto done;
    if (PySequence_Fast_GET_SIZE(seq) > STAGE_MAX_FIELDS) {
        PyErr_SetString(PyExc_ValueError, "stage: too many fields");
        goto done;
    }
    for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(seq); j++) {
        PyObject *column_obj;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, j), "niOii", &f[j].offset, &f[j].src, &column_obj, &f[j].dst, &f[j].mask))
            goto done;
        if (check_field(j, f[j].offset, f[j].src, f[j].dst, f[j].mask, rec) < 0) goto done;
        if (get_column(column_obj, &f[j].col, lo, hi - lo, type_size(f[j].dst), 1) < 0) goto done;
        nf = j + 1;
    }
    if (has_derive) {
        if (!PyArg_ParseTuple(derive_obj, "ininidd", &d.kind, &d.off_c, &d.code_c, &d.off_q, &d.code_q, &d.low, &d.high)) goto done;
        if (check_derive(&d, has_mode, rec) < 0) goto done;
        if (get_column(time_obj, &time, lo, hi - lo, 8, 0) < 0) goto done;
        held_t = 1;
        int gathered = 0;  /* derive reads the time each chunk's gather has just written */
        for (Py_ssize_t j = 0; j < nf; j++) gathered |= f[j].col.buf == time.buf && f[j].dst == T_F8;
        if (!gathered) {
            PyErr_SetString(PyExc_ValueError, "stage: the time column must be one of the fields");
            goto done;
        }
        if (has_mode) {
            if (get_column(mode_obj, &mode, lo, hi - lo, 1, 0) < 0) goto done;
            held_m = 1;
        }
        if (get_column(current_obj, &current, lo, hi - lo, 8, 1) < 0) goto done;
        held_c = 1;
    }
    int status = 0;
    long long where = 0, counts[3] = {0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    uint8_t *r = (uint8_t *)buf.buf;
    for (Py_ssize_t pos = lo; pos < hi && !status; ) {
        Py_ssize_t k = chunk < hi - pos ? chunk : hi - pos;
        size_t want = (size_t)k * (size_t)rec, got = 0;
        long long at = offset + (long long)pos * rec;
        while (got < want) {
            ssize_t n = pread(fd, r + got, want - got, (off_t)(at + (long long)got));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) { status = 2; where = errno; break; }
            if (n == 0) { status = 1; where = at + (long long)got; break; }
            got += (size_t)n;
        }
        if (status) break;
        for (Py_ssize_t j = 0; j < nf; j++)
            gather_field(r + f[j].offset, k, rec, f[j].src, f[j].dst, f[j].mask, (char *)f[j].col.buf + pos * type_size(f[j].dst));
        if (has_derive) {
            const double *t = (const double *)time.buf;
            derive_chunk(&d, r, k, rec, t + pos, has_mode ? (const uint8_t *)mode.buf + pos : NULL,
                         (double *)current.buf + pos, last_t, counts);
            last_t = t[pos + k - 1];
        }
        pos += k;
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("iLLLL", status, where, counts[0], counts[1], counts[2]);
done:
    if (held_c) PyBuffer_Release(&current);
    if (held_m) PyBuffer_Release(&mode);
    if (held_t) PyBuffer_Release(&time);
    for (Py_ssize_t j = 0; j < nf; j++) PyBuffer_Release(&f[j].col);
    Py_XDECREF(seq);
    PyBuffer_Release(&buf);
    return result;
}
#endif

static PyMethodDef methods[] = {
    {"supported", supported_py, METH_VARARGS, supported_doc},
    {"gather", gather, METH_VARARGS, gather_doc},
    {"derive", derive, METH_VARARGS, derive_doc},
    {"sign_runs", sign_runs, METH_VARARGS, sign_runs_doc},
    {"integrals", integrals, METH_VARARGS, integrals_doc},
    {"charge_column", charge_column, METH_VARARGS, charge_column_doc},
#ifndef _WIN32
    {"stage", stage, METH_VARARGS, stage_doc},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "Optional compiled kernels of cycler (see cycler_cli/native.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
