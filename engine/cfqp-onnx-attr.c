/* ONNX import, attributes: a node's attributes by name, with the default
 * ONNX gives when the file leaves one out.
 */
#include "cfqp-onnx-private.h"

#include <string.h>

const Onnx__AttributeProto *
cfqp_onnx_find_attr (const Onnx__NodeProto *node, const char *name)
{
  for (gsize i = 0; i < node->n_attribute; i++)
    if (node->attribute[i]->name && strcmp (node->attribute[i]->name, name) == 0)
      return node->attribute[i];
  return NULL;
}

gint64
cfqp_onnx_attr_int (const Onnx__NodeProto *node, const char *name, gint64 def)
{
  const Onnx__AttributeProto *a = cfqp_onnx_find_attr (node, name);
  return a && a->has_i ? a->i : def;
}

float
cfqp_onnx_attr_float (const Onnx__NodeProto *node, const char *name, float def)
{
  const Onnx__AttributeProto *a = cfqp_onnx_find_attr (node, name);
  return a && a->has_f ? a->f : def;
}

/* Returns the number of ints, -1 when absent, -2 when more than max. */
gint
cfqp_onnx_attr_ints (const Onnx__NodeProto *node, const char *name, gint64 *out, guint max)
{
  const Onnx__AttributeProto *a = cfqp_onnx_find_attr (node, name);
  if (!a)
    return -1;
  if (a->n_ints > max)
    return -2;
  for (gsize i = 0; i < a->n_ints; i++)
    out[i] = a->ints[i];
  return (gint) a->n_ints;
}

gboolean
cfqp_onnx_attr_string_is (const Onnx__NodeProto *node, const char *name, const char *def,
    const char *expected)
{
  const Onnx__AttributeProto *a = cfqp_onnx_find_attr (node, name);
  if (!a || !a->has_s)
    return g_strcmp0 (def, expected) == 0;
  return a->s.len == strlen (expected) && memcmp (a->s.data, expected, a->s.len) == 0;
}

char *
cfqp_onnx_attr_string (const Onnx__NodeProto *node, const char *name, const char *def)
{
  const Onnx__AttributeProto *a = cfqp_onnx_find_attr (node, name);
  if (!a || !a->has_s)
    return g_strdup (def);
  return g_strndup ((const char *) a->s.data, a->s.len);
}
