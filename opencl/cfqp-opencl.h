/* cfqp OpenCL backend: device discovery and the whole-graph executor.
 *
 * The engine reaches it only through its registry entry
 * (cfqp-opencl-backend.c, listed in engine/cfqp-backends.c); this header is
 * for tests, tools and the backend's own files. */
#pragma once

#include "cfqp-executor.h"

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

G_BEGIN_DECLS

/* device is an index, a name substring, or NULL for the first GPU.
 * scale / scale_den is the model's upscale factor (scale_den 1 or 0 for an
 * integer one), checked against the graph's output (scale 0: no check, for
 * graphs that are not SR models, e.g. one op in tests).  profile: time
 * every kernel and transfer on the device (a profiling queue). */
CfqpExecutor *cfqp_opencl_exec_new (const CfqpGraph *graph, CfqpPrecision precision,
                                    guint scale, guint scale_den, const char *device,
                                    gboolean profile, GError **error);
/* TRUE when an OpenCL GPU exists: what backend=AUTO asks before picking OpenCL. */
gboolean      cfqp_opencl_have_gpu (void);

typedef struct {
  guint         index;      /* what the device option takes, e.g. "0" */
  char         *name;
  char         *platform;
  gboolean      is_gpu;
  cl_device_id  id;
} CfqpOpenCLDevice;

void       cfqp_opencl_device_free  (CfqpOpenCLDevice *device);
/* Every device of every platform (platform order, then device order).  An
 * empty array when no platform is installed; NULL only when the loader
 * fails otherwise. */
GPtrArray *cfqp_opencl_list_devices (GError **error);
/* The device an executor given spec would run on (see cfqp_opencl_open);
 * free with cfqp_opencl_device_free. */
CfqpOpenCLDevice *cfqp_opencl_find_device (const char *spec, GError **error);

/* Bytes of weights and parameters an executor has uploaded so far: program
 * swaps upload only what changed. */
guint64    cfqp_opencl_exec_get_uploaded_bytes (CfqpExecutor *exec);
/* With $CFQP_OPENCL_PROFILE set when the executor was made: the device
 * time (ms, from profiling events) of each node in the last run; NULL
 * otherwise. */
const double *cfqp_opencl_exec_get_node_ms (CfqpExecutor *exec);
/* With $CFQP_OPENCL_PROFILE: the device time (ms) of the last run's input
 * upload and output download; FALSE otherwise. */
gboolean   cfqp_opencl_exec_get_transfer_ms (CfqpExecutor *exec, double *upload_ms,
                                             double *download_ms);

/* INT8 convs run conv_u8 ("naive") or conv_u8_tile2/4 ("tiled-32x8",
 * "tiled-64x8"), per node: $CFQP_OPENCL_KERNELS, read when the executor is
 * made, is auto (the default: the fastest, timed at the first frame of each
 * size) or a variant's name (forced; a conv a tiled variant cannot run
 * stays naive).  A line for the executor, then one per INT8 conv: its
 * variant and, under auto, the times.  Free with g_free. */
char      *cfqp_opencl_exec_describe_kernels (CfqpExecutor *exec);
/* The last run's host↔device transfer commands (one upload of the input,
 * one download of the output: activations never leave the device), and
 * their bytes. */
guint      cfqp_opencl_exec_get_frame_transfers (CfqpExecutor *exec, guint64 *up_bytes,
                                                 guint64 *down_bytes);
/* How many nodes run conv_u8_tile now. */
guint      cfqp_opencl_exec_count_tiled (CfqpExecutor *exec);
/* An INT16 executor's run on its program's 16-bit levels: in and out are
 * the graph's input and output tensors as uint16, without the frame's
 * byte conversions at the ends (tests: every level, not only the bytes
 * they round to). */
gboolean   cfqp_opencl_exec_run_levels (CfqpExecutor *exec, const guint16 *in, guint width,
                                        guint height, guint16 *out, GError **error);

/* --- shared by the backend's files ------------------------------------- */

/* "CL_OUT_OF_RESOURCES" for -5; "unknown" for codes outside the table. */
const char *cfqp_opencl_error_name (cl_int err);

/* Sets error to "<call> failed: <name> (<code>)" and returns FALSE when
 * err is not CL_SUCCESS. */
gboolean    cfqp_opencl_check (cl_int err, const char *call, GError **error);

/* The device chosen by spec (index, name substring or NULL for the first
 * GPU) with a context and the built kernel program, shared by every
 * executor of the process on that device.  The context and program are
 * retained for the caller (release them). */
gboolean    cfqp_opencl_open (const char *spec, cl_device_id *device, char **name,
                              cl_context *context, cl_program *program, GError **error);

G_END_DECLS
