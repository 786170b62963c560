/* Shared between the files of the cpu INT8 set (internal). */
#pragma once

#include "cfqp-int8-cpu.h"

G_BEGIN_DECLS

/* Head of every node's packed data: how to free it and what runs it. */
typedef struct {
  GDestroyNotify free;
  char          *kernel;   /* for cfqp_int8_cpu_describe and g_debug */
  char          *choice;   /* convs: the kernel and how it was chosen, short (else NULL) */
} CfqpInt8CpuPacked;

static inline guint8 *
cfqp_u8_row (const CfqpU8View *v, guint c, guint y)
{
  return v->data + c * v->plane_stride + y * v->row_stride;
}

/* Which conv kernel a pack takes. */
typedef enum {
  CFQP_INT8_CPU_GEMM_AUTO,   /* the fastest of those that apply, measured (plan cache) */
  CFQP_INT8_CPU_GEMM_DOT,    /* channels-inner columns, dot-product kernels */
  CFQP_INT8_CPU_GEMM_C4,     /* pixel lanes (where the ISA level has them; else as DOT) */
  CFQP_INT8_CPU_GEMM_ORC,    /* ORC multiply-accumulate rows (no ORC: as NATIVE) */
  CFQP_INT8_CPU_GEMM_WINO,   /* Winograd F(2×2, 3×3) where the level and the conv allow
                              * it, else as NATIVE */
  CFQP_INT8_CPU_GEMM_NATIVE, /* C4 where the CPU has it, else DOT */
  CFQP_INT8_CPU_GEMM_N_KINDS /* tests run every kind below this: add new kinds above */
} CfqpInt8CpuGemmKind;

CfqpInt8CpuPacked *cfqp_int8_cpu_conv_pack (const CfqpNode *node, const CfqpInt8Node *q);
/* The same with the kernel forced, for tests and measurements. */
CfqpInt8CpuPacked *cfqp_int8_cpu_conv_pack_kind (const CfqpNode *node, const CfqpInt8Node *q,
                                                 CfqpInt8CpuGemmKind kind);

/* The AUTO plan cache: one choice per (layer shape, ISA), kept for the life
 * of the process.  n_measured counts the layers timed so far (tests). */
void  cfqp_int8_cpu_conv_plan_clear (void);
guint cfqp_int8_cpu_conv_plan_n_measured (void);
void cfqp_int8_cpu_conv (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
                         const CfqpU8View *output, guint y0, guint y1);
/* Input row iy of ic channels, each as cols bytes from padded column 0
 * (image column −pl): pad[c] outside the image, all pad when iy is out of
 * range; the rows follow each other in dst.  The orc and wino convs. */
void cfqp_int8_cpu_gather_planar_rows (const CfqpU8View *in, gint iy, guint pl, guint cols,
                                       guint ic, const guint8 *pad, guint8 *dst);

CfqpInt8CpuPacked *cfqp_int8_cpu_lut_pack (const CfqpNode *node, const CfqpInt8Node *q);
void cfqp_int8_cpu_binary  (const CfqpNode *node, const CfqpInt8Node *q,
                            const CfqpU8View *inputs, const CfqpU8View *output,
                            guint y0, guint y1);
void cfqp_int8_cpu_rescale (const CfqpNode *node, const CfqpInt8Node *q,
                            const CfqpU8View *inputs, const CfqpU8View *output,
                            guint y0, guint y1);

/* The data moves: cfqp-moves.c's byte case (shared with FP32). */
void cfqp_int8_cpu_move    (const CfqpNode *node, const CfqpInt8Node *q,
                            const CfqpU8View *inputs, const CfqpU8View *output,
                            guint y0, guint y1);

/* A 16-bit program's conv as its pack left it (cfqp-int16-cpu-pack.c):
 * per group, ocr output channels' taps in pairs of input channels, the
 * micro-kernels' layout (0 beyond the group's channels and for an odd
 * count's missing partner), and their biases less z·Σw. */
typedef struct {
  CfqpInt8CpuPacked head;
  guint             n_taps;   /* tap pairs per output channel: ⌈icg/2⌉·kh·kw */
  guint             ocr;      /* the group's output channels rounded up to CFQP_INT16_GEMM_OC */
  gint32           *taps;     /* [group][ocr][n_taps] */
  gint64           *base;     /* [group][ocr] */
} CfqpInt16CpuConv;

/* NULL where the conv takes ref's kernel (not a conv, or taps too large). */
CfqpInt8CpuPacked *cfqp_int16_cpu_conv_pack (const CfqpNode *node, const CfqpInt8Node *q);

/* 16-bit programs (cfqp-int16-cpu-conv.c): the conv (ref's kernel where
 * nothing was packed), the concat (a copy where it is one), and ref's
 * kernel for any other op. */
void cfqp_int16_cpu_conv   (const CfqpNode *node, const CfqpInt8Node *q,
                            const CfqpU16View *inputs, const CfqpU16View *output,
                            guint y0, guint y1);
void cfqp_int16_cpu_concat (const CfqpNode *node, const CfqpInt8Node *q,
                            const CfqpU16View *inputs, const CfqpU16View *output,
                            guint y0, guint y1);
void cfqp_int16_cpu_ref_op (const CfqpNode *node, const CfqpInt8Node *q,
                            const CfqpU16View *inputs, const CfqpU16View *output,
                            guint y0, guint y1);

G_END_DECLS
