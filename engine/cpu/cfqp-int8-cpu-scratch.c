/* Per-thread scratch of the cpu INT8 kernels: a GPrivate buffer that grows
 * (at least doubling) and is freed with its thread.  Its own file so that
 * the kernels that take scratch and the kernel table that calls them do
 * not depend on each other. */
#include "cfqp-int8-cpu-scratch.h"

typedef struct {
  gpointer data;
  gsize    size;
} Scratch;

static void
scratch_free (gpointer data)
{
  Scratch *s = data;
  g_free (s->data);
  g_free (s);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

gpointer
cfqp_int8_cpu_scratch (gsize size)
{
  Scratch *s = g_private_get (&scratch_key);

  if (!s) {
    s = g_new0 (Scratch, 1);
    g_private_set (&scratch_key, s);
  }
  if (size > s->size) {
    g_free (s->data);
    s->size = MAX (size, s->size * 2);
    s->data = g_malloc (s->size);
  }
  return s->data;
}
