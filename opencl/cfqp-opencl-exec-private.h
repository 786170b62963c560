/* The OpenCL executor's state and what its files share: cfqp-opencl-exec.c
 * (life cycle, parameters and programs), cfqp-opencl-variants.c (which INT8
 * conv kernel runs each node) and cfqp-opencl-run.c (one frame: buffers,
 * kernel arguments, launches, profiling). */
#pragma once

#include "cfqp-opencl.h"
#include "cfqp-plan.h"

G_BEGIN_DECLS

typedef enum {
  K_CONV_F32, K_CONV_TRANSPOSE_F32, K_BINARY_F32, K_COPY_ACT_F32, K_MOVE_F32,
  K_CONV_U8, K_CONV_TRANSPOSE_U8, K_BINARY_U8, K_RESCALE_U8, K_MOVE_U8, K_CONV_U8_TILE2,
  K_CONV_U8_TILE4,
  K_CONV_U16, K_CONV_TRANSPOSE_U16, K_BINARY_U16, K_RESCALE_U16, K_MOVE_U16, K_WIDEN_U8,
  K_NARROW_U16,
  N_KERNELS
} KernelId;

static const char *const kernel_names[N_KERNELS] = {
  "conv_f32", "conv_transpose_f32", "binary_f32", "copy_act_f32", "move_f32",
  "conv_u8", "conv_transpose_u8", "binary_u8", "rescale_u8", "move_u8", "conv_u8_tile2",
  "conv_u8_tile4",
  "conv_u16", "conv_transpose_u16", "binary_u16", "rescale_u16", "move_u16", "widen_u8",
  "narrow_u16",
};

/* Per-node device parameters. */
typedef enum {
  P_WEIGHT, P_BIAS, P_PAD, P_RQ_POS, P_RQ_NEG, P_RQ_IN, P_OFFSET, P_SLOPES, P_CONSTANT,
  P_WTILE, P_WSUM,   /* conv_u8_tile*: repacked weights, Σw per output channel */
  N_PARAMS
} ParamId;

typedef struct {
  cl_mem  mem[N_PARAMS];
  GBytes *host[N_PARAMS];   /* the bytes mem holds: what a swap compares */
  /* INT8 scalars, copied from the program */
  gint32  z_in[2], z_out, lo, hi;
  gint32 *z_inputs;
} NodeParams;

/* INT8 conv kernels: conv_u8 (naive: a work-item per pixel and 4 output
 * channels, global memory only) and conv_u8_tile2/4 (tiles in local memory,
 * dot products, 2 or 4 pixels per work-item).  All are bit-exact with ref;
 * which is fastest depends on the device and the layer, so
 * CFQP_OPENCL_KERNELS=auto (the default) times each on each eligible conv at
 * the first frame of each size and keeps the fastest; a variant's name
 * forces it (tests run each). */
typedef enum { VARIANT_NAIVE, VARIANT_TILE2, VARIANT_TILE4, N_VARIANTS } ConvVariant;

static const char *const variant_names[N_VARIANTS] = { "naive", "tiled-32x8", "tiled-64x8" };
static const guint variant_px[N_VARIANTS] = { 0, 2, 4 };
static const KernelId variant_kernel[N_VARIANTS] = { K_CONV_U8, K_CONV_U8_TILE2, K_CONV_U8_TILE4 };

/* conv_u8_tile*'s geometry: TILE_* of int8.cl. */
#define TILE_LX 16
#define TILE_LY 8
#define TILE_OC 8
/* Local memory a tile's patch may take: leaves room for several
 * work-groups per compute unit on GPUs with 48-64 KiB. */
#define TILE_LOCAL_BUDGET 16384

typedef struct {
  gboolean    ok[N_VARIANTS];   /* the variant can run this node (naive: any conv) */
  gint        nq, ph;           /* channel quads; patch rows */
  gint        ck[N_VARIANTS], pw[N_VARIANTS];   /* quads per pass; patch columns */
  ConvVariant variant;
  double      ms[N_VARIANTS];   /* measured by auto; 0 when not */
} NodeConv;

typedef struct {
  CfqpExecutor    parent;
  const CfqpGraph  *graph;
  CfqpPrecision     precision;
  guint             scale, scale_den;
  gsize             elsize;    /* of an activation: 4 (FP32), 1 (INT8), 2 (INT16) */
  gboolean          have_program;
  cl_device_id      device;
  cl_context        context;
  cl_program        program;
  cl_command_queue  queue;
  cl_kernel         kernels[N_KERNELS];
  cl_mem            dummy;     /* bound to pointer arguments a node does not use */
  NodeParams       *params;    /* per node */
  CfqpPlan          plan;
  cl_mem           *slots;
  gsize            *slot_bytes;
  guint             n_slots;
  cl_mem            in_buf, out_buf;
  gsize             in_bytes, out_bytes;
  /* INT16: the graph's input and output levels, between the frame's bytes
   * (in_buf, out_buf) and the first and last kernels */
  cl_mem            in16_buf, out16_buf;
  gsize             in16_bytes, out16_bytes;
  guint64           uploaded;
  /* $CFQP_OPENCL_PROFILE set: device time of each node in the last run */
  gboolean          profile;
  double           *node_ms;
  double            upload_ms, download_ms;   /* of the input and the output */
  GArray           *events;    /* Launch, of the run in progress */
  gboolean          measuring; /* auto's trial launches: no events */
  /* the last run's host↔device transfers: the frame's one upload and one
   * download, nothing between layers */
  guint             frame_transfers;
  guint64           frame_up, frame_down;
  /* INT8 conv variants */
  gint              forced;    /* a ConvVariant, or -1 for auto */
  const char       *dot;       /* the tiled convs' dot product, as built */
  cl_ulong          max_const, local_mem;
  size_t            max_wg;
  NodeConv         *conv;      /* per node */
  guint             chosen_w, chosen_h;   /* the size auto measured at */
} ClExec;

typedef struct {
  cl_event event;
  guint    node;
} Launch;

/* Output channels per conv work-item: OCB in f32.cl. */
#define CONV_OCB 4

#define CHECK(err, call) cfqp_opencl_check ((err), (call), error)

/* Whether a tiled variant can run the node. */
static inline gboolean
conv_tiles (const NodeConv *nc)
{
  for (guint v = VARIANT_NAIVE + 1; v < N_VARIANTS; v++)
    if (nc->ok[v])
      return TRUE;
  return FALSE;
}

/* cfqp-opencl-variants.c: $CFQP_OPENCL_KERNELS, the device's limits and
 * each node's tiled geometry, when the executor is made; auto's timing at
 * the first frame of each size (input uploaded). */
gboolean cfqp_opencl_setup_conv_variants  (ClExec *e, GError **error);
gboolean cfqp_opencl_choose_conv_variants (ClExec *e, GError **error);

/* cfqp-opencl-run.c: the executor's run, and one conv node's launch in its
 * current variant (what auto times). */
gboolean cfqp_opencl_exec_run     (CfqpExecutor *base, gconstpointer in, guint width,
                                   guint height, gpointer out, GError **error);
gboolean cfqp_opencl_enqueue_conv (ClExec *e, guint i, GError **error);

/* cfqp-opencl-exec.c: the kernel a 16-bit program's node runs, -1 where
 * the op has none (set_program refuses such a program). */
gint cfqp_opencl_int16_kernel (CfqpOpType op);

G_END_DECLS
