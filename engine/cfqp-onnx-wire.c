/* ONNX import, the wire check: a bounded walk over the protobuf bytes
 * before protobuf-c unpacks them.
 *
 * protobuf-c unpacks nested messages recursively with no depth bound: a
 * hostile file of a few MB nesting Graph → Node → Attribute.g → Graph …
 * 100k deep overflows the stack.  So the wire format is walked first
 * (iteratively per message, recursing only into message-typed fields, at
 * most MAX_NESTING deep).  ONNX models nest a handful of levels
 * (subgraphs of If/Loop add a few each).  Anything the walk cannot parse
 * protobuf-c would not either: refused as well.
 */
#include "cfqp-onnx-private.h"

#define MAX_NESTING 64

typedef enum { WIRE_OK, WIRE_TOO_DEEP, WIRE_MALFORMED } WireCheck;

static gboolean
wire_varint (const guint8 **p, const guint8 *end, guint64 *v)
{
  *v = 0;
  for (guint shift = 0; shift < 64; shift += 7) {
    if (*p >= end)
      return FALSE;
    *v |= (guint64) (**p & 0x7f) << shift;
    if (!(*(*p)++ & 0x80))
      return TRUE;
  }
  return FALSE;
}

static WireCheck
wire_check (const guint8 *p, const guint8 *end, const ProtobufCMessageDescriptor *desc,
    guint depth)
{
  if (depth > MAX_NESTING)
    return WIRE_TOO_DEEP;
  while (p < end) {
    guint64 key, len;
    const ProtobufCFieldDescriptor *field;

    if (!wire_varint (&p, end, &key))
      return WIRE_MALFORMED;
    switch (key & 7) {
      case 0:
        if (!wire_varint (&p, end, &len))
          return WIRE_MALFORMED;
        break;
      case 1:
        if (end - p < 8)
          return WIRE_MALFORMED;
        p += 8;
        break;
      case 5:
        if (end - p < 4)
          return WIRE_MALFORMED;
        p += 4;
        break;
      case 2:
        if (!wire_varint (&p, end, &len) || len > (guint64) (end - p))
          return WIRE_MALFORMED;
        field = key >> 3 <= G_MAXUINT32
            ? protobuf_c_message_descriptor_get_field (desc, (unsigned) (key >> 3)) : NULL;
        if (field && field->type == PROTOBUF_C_TYPE_MESSAGE) {
          WireCheck r = wire_check (p, p + len, field->descriptor, depth + 1);
          if (r != WIRE_OK)
            return r;
        }
        p += len;
        break;
      default:   /* groups: protobuf-c refuses them too */
        return WIRE_MALFORMED;
    }
  }
  return WIRE_OK;
}

gboolean
cfqp_onnx_wire_check (const guint8 *data, gsize size, GError **error)
{
  switch (wire_check (data, data + size, &onnx__model_proto__descriptor, 0)) {
    case WIRE_OK:
      break;
    case WIRE_TOO_DEEP:
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
          "messages nested more than %d deep", MAX_NESTING);
      return FALSE;
    case WIRE_MALFORMED:
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
          "not a valid ONNX model (malformed protobuf)");
      return FALSE;
  }
  return TRUE;
}
