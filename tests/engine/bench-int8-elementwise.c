/* Before/after timing of the cpu set's elementwise kernels: the per-channel
 * tables against their ORC forms on the same node, bytes and run, frames
 * interleaved, thread CPU time, median.  Usage:
 *   bench-int8-elementwise [width height channels runs]   (default 640 360 27 15)
 * Each row also checks that both forms and ref give the same bytes. */
#include "cfqp-int8-cpu-lut.h"
#include "cfqp-int8-cpu-private.h"
#include "bench-clock.h"

#include <stdlib.h>
#include <string.h>

static CfqpU8View
view_new (guint c, guint h, guint w, GRand *rand)
{
  CfqpU8View v = { NULL, c, h, w, w, (gsize) w * h };
  v.data = g_malloc ((gsize) c * h * w);
  for (gsize e = 0; e < (gsize) c * h * w; e++)
    v.data[e] = (guint8) g_rand_int_range (rand, 0, 256);
  return v;
}

static void
bench (CfqpOpType op, guint c_n, guint w, guint h, guint runs)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  CfqpGraph *g = cfqp_graph_new ();
  guint ins[2] = { 1, 2 }, in_c = op == CFQP_OP_CONCAT ? c_n / 2 : c_n;
  CfqpNode *node;
  CfqpQParams table[4] = { { 1 / 255.f, 0 }, { 1 / 255.f, 0 }, { 0.0123f, 131 }, { 1 / 255.f, 0 } };
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *prog;
  CfqpInt8CpuPacked *packed[2];
  CfqpU8View in[2], out[3];
  double *ms[2] = { g_new (double, runs), g_new (double, runs) };

  cfqp_graph_add_value (g, "input", in_c, -1);
  cfqp_graph_add_value (g, "a", in_c, -1);
  cfqp_graph_add_value (g, "b", in_c, -1);
  node = cfqp_graph_add_node (g, op, "node");
  node->n_inputs = 2;
  node->inputs = g_memdup2 (ins, sizeof ins);
  node->out_channels = c_n;
  node->output = cfqp_graph_add_value (g, "out", c_n, 0);
  g->output = node->output;
  if (op == CFQP_OP_BINARY)
    node->p.binary.kind = CFQP_BINARY_ADD;
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);

  in[0] = view_new (in_c, h, w, rand);
  in[1] = view_new (in_c, h, w, rand);
  for (guint k = 0; k < 3; k++)
    out[k] = view_new (c_n, h, w, rand);
  packed[0] = cfqp_int8_cpu_lut_pack_full (node, &prog->nodes[0], FALSE);
  packed[1] = cfqp_int8_cpu_lut_pack_full (node, &prog->nodes[0], TRUE);
  cfqp_int8_ref_backend.ops[op] (node, &prog->nodes[0], in, &out[2], 0, h);
  for (guint r = 0; r < runs + 1; r++)
    for (guint k = 0; k < 2; k++) {
      double t0;
      prog->nodes[0].packed = packed[k];
      t0 = bench_thread_cpu_ms ();
      cfqp_int8_cpu_backend.ops[op] (node, &prog->nodes[0], in, &out[k], 0, h);
      if (r > 0)   /* the first run warms caches and ORC's code */
        ms[k][r - 1] = bench_thread_cpu_ms () - t0;
    }
  prog->nodes[0].packed = NULL;
  qsort (ms[0], runs, sizeof (double), bench_compare_doubles);
  qsort (ms[1], runs, sizeof (double), bench_compare_doubles);
  g_print ("%-7s %u ch %ux%u: tables (%s) %.3f ms, ORC (%s) %.3f ms, ORC/tables %.2f, %s\n",
      cfqp_op_type_to_string (op), c_n, w, h, packed[0]->kernel, ms[0][runs / 2],
      packed[1]->kernel, ms[1][runs / 2], ms[1][runs / 2] / ms[0][runs / 2],
      memcmp (out[0].data, out[2].data, out[2].plane_stride * c_n) == 0 &&
      memcmp (out[1].data, out[2].data, out[2].plane_stride * c_n) == 0 ? "bytes = ref" : "BYTES DIFFER");
  for (guint k = 0; k < 2; k++) {
    packed[k]->free (packed[k]);
    g_free (ms[k]);
    g_free (in[k].data);
  }
  for (guint k = 0; k < 3; k++)
    g_free (out[k].data);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
}

int
main (int argc, char **argv)
{
  guint w = argc > 2 ? atoi (argv[1]) : 640, h = argc > 2 ? atoi (argv[2]) : 360;
  guint c = argc > 3 ? atoi (argv[3]) : 27, runs = argc > 4 ? atoi (argv[4]) : 15;

  bench (CFQP_OP_BINARY, c, w, h, runs);
  bench (CFQP_OP_CONCAT, 2 * c, w, h, runs);
  return 0;
}
