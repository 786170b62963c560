/* cfqp — cfqpsr's frames and the runner: the packed RGB frames the network
 * reads and writes (a frame's own bytes, or I420/NV12 converted to RGB with
 * the caps' matrix and range by GstVideoConverter, and back), one frame
 * through the runner, and the frame copies self-calibration samples.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcfqpsr-private.h"

/* A frame copied for self-calibration: the worker maps it later. */
typedef struct
{
  GstBuffer *buffer;
  GstVideoInfo info;
} SelfSample;

void
gst_cfqp_sr_self_sample_free (gpointer data)
{
  SelfSample *sample = data;

  gst_buffer_unref (sample->buffer);
  g_free (sample);
}

/* Worker: the copied frame as the calibrator's image. */
CfqpImage *
gst_cfqp_sr_self_sample_image (gpointer data, guint channels,
    gpointer user_data)
{
  SelfSample *sample = data;
  GstVideoFrame frame;
  CfqpImage *img;

  if (!gst_video_frame_map (&frame, &sample->info, sample->buffer,
          GST_MAP_READ))
    return NULL;
  img = gst_cfqp_frame_to_image (&frame, channels);
  gst_video_frame_unmap (&frame);
  return img;
}

/* In transform_frame: hands a copy of the input to the worker when it is
 * idle, until self-calibration-frames have been handed over.  Only a copy
 * is made here. */
void
gst_cfqp_sr_self_sample (GstCfqpSr * self, GstVideoFrame * in_frame)
{
  SelfSample *sample;

  if (!cfqp_session_wants_sample (self->session))
    return;
  sample = g_new0 (SelfSample, 1);
  sample->buffer = gst_buffer_copy_deep (in_frame->buffer);
  sample->info = in_frame->info;
  cfqp_session_add_sample (self->session, sample);
}

void
gst_cfqp_sr_clear_frames (GstCfqpSr * self)
{
  g_clear_pointer (&self->to_rgb, gst_video_converter_free);
  g_clear_pointer (&self->from_rgb, gst_video_converter_free);
  gst_clear_buffer (&self->rgb_in);
  gst_clear_buffer (&self->rgb_out);
  self->yuv = FALSE;
}

/* In set_info (runner_lock held, frames cleared): the layout of a packed
 * RGB format, or the conversions of a YUV one.  FALSE when GstVideoConverter
 * has none. */
gboolean
gst_cfqp_sr_setup_frames (GstCfqpSr * self, GstVideoInfo * in_info,
    GstVideoInfo * out_info, guint n_threads)
{
  GstVideoFormat format = GST_VIDEO_INFO_FORMAT (in_info);
  GstStructure *config;

  if (gst_cfqp_packed_layout_for_format (format, &self->layout))
    return TRUE;

  /* YUV: to RGB with the caps' matrix and range, the RGB network, back */
  config = gst_structure_new ("cfqp",
      GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
      GST_VIDEO_DITHER_NONE,
      GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT,
      n_threads ? n_threads : g_get_num_processors (), NULL);
  gst_cfqp_rgb_info_like (&self->rgb_in_info, in_info,
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  gst_cfqp_rgb_info_like (&self->rgb_out_info, out_info,
      GST_VIDEO_INFO_WIDTH (out_info), GST_VIDEO_INFO_HEIGHT (out_info));
  self->to_rgb = gst_video_converter_new (in_info, &self->rgb_in_info,
      gst_structure_copy (config));
  self->from_rgb = gst_video_converter_new (&self->rgb_out_info, out_info,
      config);
  self->rgb_in = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&self->rgb_in_info), NULL);
  self->rgb_out = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&self->rgb_out_info), NULL);
  gst_cfqp_packed_layout_for_format (GST_VIDEO_FORMAT_RGB, &self->layout);
  self->yuv = TRUE;
  if (self->to_rgb == NULL || self->from_rgb == NULL) {
    GST_ERROR_OBJECT (self, "no conversion for %s",
        gst_video_format_to_string (format));
    return FALSE;
  }
  return TRUE;
}

/* One frame through the runner (runner_lock held). */

gboolean
gst_cfqp_sr_run (GstCfqpSr * self, GstVideoFrame * in_frame,
    GstVideoFrame * out_frame, GError ** error)
{
  GstVideoFrame rgb_in, rgb_out;
  gboolean ok, timed;
  gint64 t0 = 0, t1 = 0, t2 = 0;

  /* any output size: the network's output resampled to the frame's */
  if (!self->yuv)
    return cfqp_runner_run_packed_resized (self->runner, &self->layout,
        GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0),
        GST_VIDEO_FRAME_WIDTH (in_frame), GST_VIDEO_FRAME_HEIGHT (in_frame),
        GST_VIDEO_FRAME_PLANE_DATA (out_frame, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, 0),
        GST_VIDEO_FRAME_WIDTH (out_frame), GST_VIDEO_FRAME_HEIGHT (out_frame),
        error);

  if (!gst_video_frame_map (&rgb_in, &self->rgb_in_info, self->rgb_in,
          GST_MAP_READWRITE))
    return FALSE;
  if (!gst_video_frame_map (&rgb_out, &self->rgb_out_info, self->rgb_out,
          GST_MAP_READWRITE)) {
    gst_video_frame_unmap (&rgb_in);
    return FALSE;
  }
  /* GST_DEBUG=cfqpsr:6 shows what the YUV path costs beside the network */
  timed = gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG;
  if (timed)
    t0 = g_get_monotonic_time ();
  gst_video_converter_frame (self->to_rgb, in_frame, &rgb_in);
  if (timed)
    t1 = g_get_monotonic_time ();
  ok = cfqp_runner_run_packed_resized (self->runner, &self->layout,
      GST_VIDEO_FRAME_PLANE_DATA (&rgb_in, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (&rgb_in, 0),
      GST_VIDEO_FRAME_WIDTH (&rgb_in), GST_VIDEO_FRAME_HEIGHT (&rgb_in),
      GST_VIDEO_FRAME_PLANE_DATA (&rgb_out, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (&rgb_out, 0),
      GST_VIDEO_FRAME_WIDTH (&rgb_out), GST_VIDEO_FRAME_HEIGHT (&rgb_out),
      error);
  if (timed)
    t2 = g_get_monotonic_time ();
  if (ok)
    gst_video_converter_frame (self->from_rgb, &rgb_out, out_frame);
  if (timed)
    GST_LOG_OBJECT (self, "yuv->rgb %.3f ms, network %.3f ms, rgb->yuv %.3f ms",
        (t1 - t0) / 1000.0, (t2 - t1) / 1000.0,
        (g_get_monotonic_time () - t2) / 1000.0);
  gst_video_frame_unmap (&rgb_out);
  gst_video_frame_unmap (&rgb_in);
  return ok;
}
