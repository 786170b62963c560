/* The `cpu` kernel table: which kernel runs each op, packing per node, and
 * a description of the choices. */
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-executor.h"
#include "cfqp-moves.h"

#include <config.h>

static gpointer
cpu_pack_kind (const CfqpNode *node, const CfqpInt8Node *q, CfqpInt8CpuGemmKind kind)
{
  switch (node->op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      return cfqp_int8_cpu_conv_pack_kind (node, q, kind);
    case CFQP_OP_BINARY:
    case CFQP_OP_CONCAT:
    case CFQP_OP_ACTIVATION:
      return cfqp_int8_cpu_lut_pack (node, q);
    default:
      return NULL;
  }
}

static gpointer
cpu_pack (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cpu_pack_kind (node, q, CFQP_INT8_CPU_GEMM_AUTO);
}

static gpointer
cpu_pack_orc (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cpu_pack_kind (node, q, CFQP_INT8_CPU_GEMM_ORC);
}

static gpointer
cpu_pack_native (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cpu_pack_kind (node, q, CFQP_INT8_CPU_GEMM_NATIVE);
}

static gpointer
cpu_pack_wino (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cpu_pack_kind (node, q, CFQP_INT8_CPU_GEMM_WINO);
}

/* 16-bit programs: the conv's taps (every kernel family alike) */
static gpointer
cpu_pack16 (const CfqpNode *node, const CfqpInt8Node *q)
{
  return node->op == CFQP_OP_CONV ? cfqp_int16_cpu_conv_pack (node, q) : NULL;
}

static void
cpu_free_packed (gpointer packed)
{
  CfqpInt8CpuPacked *head = packed;
  head->free (head);
}

/* The sets differ only in how pack picks a conv's kernel. */
#define CPU_OPS \
  { \
    [CFQP_OP_CONV] = cfqp_int8_cpu_conv, \
    [CFQP_OP_CONV_TRANSPOSE] = cfqp_int8_cpu_conv, \
    [CFQP_OP_ACTIVATION] = cfqp_int8_cpu_rescale, \
    [CFQP_OP_BINARY] = cfqp_int8_cpu_binary, \
    [CFQP_OP_CONCAT] = cfqp_int8_cpu_rescale, \
    [CFQP_OP_DEPTH_TO_SPACE] = cfqp_int8_cpu_move, \
    [CFQP_OP_SPACE_TO_DEPTH] = cfqp_int8_cpu_move, \
    [CFQP_OP_RESIZE_NEAREST] = cfqp_int8_cpu_move, \
    [CFQP_OP_TILE_CHANNELS] = cfqp_int8_cpu_move, \
  }

/* 16-bit programs (pack16): the int16 conv, ref's other kernels */
#define CPU_OPS16 \
  { \
    [CFQP_OP_CONV] = cfqp_int16_cpu_conv, \
    [CFQP_OP_CONV_TRANSPOSE] = cfqp_int16_cpu_ref_op, \
    [CFQP_OP_ACTIVATION] = cfqp_int16_cpu_ref_op, \
    [CFQP_OP_BINARY] = cfqp_int16_cpu_ref_op, \
    [CFQP_OP_CONCAT] = cfqp_int16_cpu_concat, \
    [CFQP_OP_DEPTH_TO_SPACE] = cfqp_int16_cpu_ref_op, \
    [CFQP_OP_SPACE_TO_DEPTH] = cfqp_int16_cpu_ref_op, \
    [CFQP_OP_RESIZE_NEAREST] = cfqp_int16_cpu_ref_op, \
    [CFQP_OP_TILE_CHANNELS] = cfqp_int16_cpu_ref_op, \
  }

const CfqpInt8Backend cfqp_int8_cpu_backend = { "cpu", CPU_OPS, cpu_pack, cpu_free_packed,
                                                CPU_OPS16, cpu_pack16 };
const CfqpInt8Backend cfqp_int8_cpu_orc_backend = { "cpu", CPU_OPS, cpu_pack_orc,
                                                    cpu_free_packed, CPU_OPS16, cpu_pack16 };
const CfqpInt8Backend cfqp_int8_cpu_native_backend = { "cpu", CPU_OPS, cpu_pack_native,
                                                       cpu_free_packed, CPU_OPS16, cpu_pack16 };
const CfqpInt8Backend cfqp_int8_cpu_wino_backend = { "cpu", CPU_OPS, cpu_pack_wino,
                                                     cpu_free_packed, CPU_OPS16, cpu_pack16 };

const CfqpInt8Backend *
cfqp_int8_cpu_backend_for (CfqpCpuKernels kernels)
{
  switch (kernels) {
    case CFQP_CPU_KERNELS_ORC:
      return &cfqp_int8_cpu_orc_backend;
    case CFQP_CPU_KERNELS_NATIVE:
      return &cfqp_int8_cpu_native_backend;
    case CFQP_CPU_KERNELS_WINOGRAD:
      return &cfqp_int8_cpu_wino_backend;
    case CFQP_CPU_KERNELS_AUTO:
    default:
      return &cfqp_int8_cpu_backend;
  }
}

/* A node with no packed data: a data move, or ref's kernel. */
static const char *
move_kernel (const CfqpNode *node)
{
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  const char *move;

  /* the config's kernel (ARM: NEON, blocks 2-4) is tried first */
  if (node->op == CFQP_OP_DEPTH_TO_SPACE && cfg->interleave && node->p.shuffle.block >= 2 &&
      node->p.shuffle.block <= 4) {
    g_autofree char *name = g_strdup_printf ("depth-to-space: %s interleave rows",
        cfg->interleave_name);
    return g_intern_string (name);
  }
  move = node->op == CFQP_OP_CONCAT ? NULL : cfqp_moves_describe (node, 1);
  return move ? move : "ref kernel";
}

char *
cfqp_int8_cpu_describe_convs (const CfqpGraph *graph, const CfqpInt8Program *program)
{
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  GString *s = g_string_new (NULL);

  /* the level first: a capped or older CPU explains slower kernels */
  g_string_append_printf (s, "isa %s (cpu %s%s%s)", cfg->isa_name, cfg->cpu_name,
      cfg->cap ? ", CFQP_MAX_CPU_ISA=" : "", cfg->cap ? cfg->cap : "");
  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpInt8CpuPacked *head = program->nodes[i].packed;
    if (head && head->choice)
      g_string_append_printf (s, "; %s %s", graph->nodes[i].name, head->choice);
  }
  return g_string_free (s, FALSE);
}

char *
cfqp_int8_cpu_describe (const CfqpGraph *graph, const CfqpInt8Program *program)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpInt8CpuPacked *head = program->nodes[i].packed;
    g_string_append_printf (s, "%s%s: %s", i ? "\n" : "", graph->nodes[i].name,
        head ? head->kernel : move_kernel (&graph->nodes[i]));
  }
  return g_string_free (s, FALSE);
}

/* The registry's entry (cfqp-backends.c): INT8 on this set, the conv
 * kernel family from the runner's options. */
static CfqpExecutor *
cpu_executor_new (const CfqpExecutorParams *params, GError **error)
{
  return cfqp_int8_executor_new (params, cfqp_int8_cpu_backend_for (params->cpu_kernels),
      cfqp_int8_cpu_describe_convs);
}

const CfqpBackendEntry cfqp_int8_cpu_backend_entry = {
  .name = "cpu",
  .title = "CPU",
  .kind = CFQP_BACKEND_CPU,
  .precisions = CFQP_BACKEND_PRECISION (CFQP_PRECISION_INT8) |
                CFQP_BACKEND_PRECISION (CFQP_PRECISION_INT16),
  .new = cpu_executor_new,
};
