/* The environment knobs as runner options (cfqp_runner_options_from_env):
 * for the programs at the edges (the elements, the tools), which keep the
 * variables working; nothing else in the engine reads them. */
#include "cfqp-engine.h"

#include <stdlib.h>

void
cfqp_runner_options_from_env (CfqpRunnerOptions *options)
{
  const char *stripes = g_getenv ("CFQP_INT8_STRIPES");

  if (stripes && (g_str_equal (stripes, "off") || g_str_equal (stripes, "0")))
    options->stripe_rows = CFQP_STRIPES_OFF;
  else if (stripes && g_str_equal (stripes, "auto"))
    options->stripe_rows = CFQP_STRIPES_AUTO;
  else if (stripes && atoi (stripes) > 0)
    options->stripe_rows = atoi (stripes);
  if (g_getenv ("CFQP_INT8_PROFILE"))
    options->profile = TRUE;
  if (g_getenv ("CFQP_OPENCL_PROFILE"))
    options->opencl_profile = TRUE;
}
