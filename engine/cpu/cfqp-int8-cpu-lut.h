/* The elementwise pack of the cpu set with its ORC form optional (internal:
 * tests and benchmarks compare the two). */
#pragma once

#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-private.h"

G_BEGIN_DECLS

/* allow_orc FALSE: tables only, as before the ORC kernels. */
CfqpInt8CpuPacked *cfqp_int8_cpu_lut_pack_full (const CfqpNode *node, const CfqpInt8Node *q,
                                                gboolean allow_orc);
/* allow_direct: add/sub per element in int64 lanes where the kernel
 * config has an add_row (the production choice); FALSE keeps the ORC/table forms. */
CfqpInt8CpuPacked *cfqp_int8_cpu_lut_pack_with (const CfqpNode *node, const CfqpInt8Node *q,
                                                gboolean allow_orc, gboolean allow_direct);
gboolean           cfqp_int8_cpu_lut_is_direct (const CfqpInt8CpuPacked *packed);
/* Whether a direct add/sub runs from int32 tables (else int64 lanes). */
gboolean           cfqp_int8_cpu_lut_uses_lut32 (const CfqpInt8CpuPacked *packed);
/* Whether a packed elementwise node runs through ORC. */
gboolean           cfqp_int8_cpu_lut_uses_orc  (const CfqpInt8CpuPacked *packed);
/* A concat/activation whose tables are all the identity: runs as row copies. */
gboolean           cfqp_int8_cpu_lut_is_copy   (const CfqpInt8CpuPacked *packed);

#if CFQP_GEMM_X86
/* The direct add/sub rows (CfqpInt8AddRowFunc), one per ISA. */
void cfqp_int8_add_row_u8__avx2   (const guint8 *a, const guint8 *b, guint8 *o, guint n,
                                   gint64 za, CfqpRequant ra, gint64 zb, CfqpRequant rb,
                                   gint64 off, gint32 zo, gint32 lo, gint32 hi);
void cfqp_int8_add_lut32_u8__avx2 (const guint8 *a, const guint8 *b, guint8 *o, guint n,
                                   const gint32 *ta, const gint32 *tb, gint32 zo, gint32 lo,
                                   gint32 hi);
void cfqp_int8_add_row_u8__avx512 (const guint8 *a, const guint8 *b, guint8 *o, guint n,
                                   gint64 za, CfqpRequant ra, gint64 zb, CfqpRequant rb,
                                   gint64 off, gint32 zo, gint32 lo, gint32 hi);
#endif
#if CFQP_GEMM_ARM64
/* every ARM level (cfqp-int8-cpu-rows-neon.c) */
void cfqp_int8_add_row_u8__neon   (const guint8 *a, const guint8 *b, guint8 *o, guint n,
                                   gint64 za, CfqpRequant ra, gint64 zb, CfqpRequant rb,
                                   gint64 off, gint32 zo, gint32 lo, gint32 hi);
#endif

G_END_DECLS
