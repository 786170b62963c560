/* OpenCL device discovery through the ICD loader, and one context with the
 * built kernel program per device, shared by the executors (building the
 * program is the slow part of creating one). */
#include "config.h"

#include "cfqp-opencl.h"
#include "cfqp-opencl-kernels.h"

#include <string.h>

/* ocl-icd reports "no platform" with this code (cl_khr_icd). */
#define PLATFORM_NOT_FOUND_KHR -1001
#define BUILD_LOG_MAX 4000

const char *
cfqp_opencl_error_name (cl_int err)
{
  switch (err) {
#define E(x) case x: return #x
    E (CL_SUCCESS); E (CL_DEVICE_NOT_FOUND); E (CL_DEVICE_NOT_AVAILABLE);
    E (CL_COMPILER_NOT_AVAILABLE); E (CL_MEM_OBJECT_ALLOCATION_FAILURE);
    E (CL_OUT_OF_RESOURCES); E (CL_OUT_OF_HOST_MEMORY); E (CL_BUILD_PROGRAM_FAILURE);
    E (CL_INVALID_VALUE); E (CL_INVALID_DEVICE_TYPE); E (CL_INVALID_PLATFORM);
    E (CL_INVALID_DEVICE); E (CL_INVALID_CONTEXT); E (CL_INVALID_QUEUE_PROPERTIES);
    E (CL_INVALID_COMMAND_QUEUE); E (CL_INVALID_HOST_PTR); E (CL_INVALID_MEM_OBJECT);
    E (CL_INVALID_BINARY); E (CL_INVALID_BUILD_OPTIONS); E (CL_INVALID_PROGRAM);
    E (CL_INVALID_PROGRAM_EXECUTABLE); E (CL_INVALID_KERNEL_NAME);
    E (CL_INVALID_KERNEL_DEFINITION); E (CL_INVALID_KERNEL); E (CL_INVALID_ARG_INDEX);
    E (CL_INVALID_ARG_VALUE); E (CL_INVALID_ARG_SIZE); E (CL_INVALID_KERNEL_ARGS);
    E (CL_INVALID_WORK_DIMENSION); E (CL_INVALID_WORK_GROUP_SIZE);
    E (CL_INVALID_WORK_ITEM_SIZE); E (CL_INVALID_GLOBAL_OFFSET);
    E (CL_INVALID_EVENT_WAIT_LIST); E (CL_INVALID_EVENT); E (CL_INVALID_OPERATION);
    E (CL_INVALID_BUFFER_SIZE); E (CL_INVALID_GLOBAL_WORK_SIZE);
    E (CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
    E (CL_MISALIGNED_SUB_BUFFER_OFFSET);
#undef E
    case PLATFORM_NOT_FOUND_KHR: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown";
  }
}

gboolean
cfqp_opencl_check (cl_int err, const char *call, GError **error)
{
  if (err == CL_SUCCESS)
    return TRUE;
  g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND, "%s failed: %s (%d)",
      call, cfqp_opencl_error_name (err), err);
  return FALSE;
}

void
cfqp_opencl_device_free (CfqpOpenCLDevice *device)
{
  if (!device)
    return;
  g_free (device->name);
  g_free (device->platform);
  g_free (device);
}

static char *
platform_string (cl_platform_id platform, cl_platform_info what)
{
  size_t n = 0;
  char *s;

  if (clGetPlatformInfo (platform, what, 0, NULL, &n) != CL_SUCCESS || n == 0)
    return g_strdup ("?");
  s = g_malloc0 (n + 1);
  if (clGetPlatformInfo (platform, what, n, s, NULL) != CL_SUCCESS)
    s[0] = '\0';
  return g_strstrip (s);
}

static char *
device_string (cl_device_id device, cl_device_info what)
{
  size_t n = 0;
  char *s;

  if (clGetDeviceInfo (device, what, 0, NULL, &n) != CL_SUCCESS || n == 0)
    return g_strdup ("?");
  s = g_malloc0 (n + 1);
  if (clGetDeviceInfo (device, what, n, s, NULL) != CL_SUCCESS)
    s[0] = '\0';
  return g_strstrip (s);
}

GPtrArray *
cfqp_opencl_list_devices (GError **error)
{
  g_autoptr (GPtrArray) list =
      g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_opencl_device_free);
  g_autofree cl_platform_id *platforms = NULL;
  cl_uint n_platforms = 0;
  cl_int err;

  err = clGetPlatformIDs (0, NULL, &n_platforms);
  if (err == PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n_platforms == 0))
    return g_steal_pointer (&list);
  if (!cfqp_opencl_check (err, "clGetPlatformIDs", error))
    return NULL;
  platforms = g_new0 (cl_platform_id, n_platforms);
  if (!cfqp_opencl_check (clGetPlatformIDs (n_platforms, platforms, NULL),
          "clGetPlatformIDs", error))
    return NULL;

  for (cl_uint p = 0; p < n_platforms; p++) {
    g_autofree cl_device_id *ids = NULL;
    g_autofree char *pname = platform_string (platforms[p], CL_PLATFORM_NAME);
    cl_uint n_ids = 0;

    /* A platform without devices is not an error: list the others. */
    err = clGetDeviceIDs (platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n_ids);
    if (err == CL_DEVICE_NOT_FOUND || n_ids == 0)
      continue;
    if (!cfqp_opencl_check (err, "clGetDeviceIDs", error))
      return NULL;
    ids = g_new0 (cl_device_id, n_ids);
    if (!cfqp_opencl_check (clGetDeviceIDs (platforms[p], CL_DEVICE_TYPE_ALL, n_ids, ids, NULL),
            "clGetDeviceIDs", error))
      return NULL;
    for (cl_uint d = 0; d < n_ids; d++) {
      CfqpOpenCLDevice *dev = g_new0 (CfqpOpenCLDevice, 1);
      cl_device_type type = 0;

      clGetDeviceInfo (ids[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
      dev->index = list->len;
      dev->name = device_string (ids[d], CL_DEVICE_NAME);
      dev->platform = g_strdup (pname);
      dev->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
      dev->id = ids[d];
      g_ptr_array_add (list, dev);
    }
  }
  return g_steal_pointer (&list);
}

gboolean
cfqp_opencl_have_gpu (void)
{
  static gsize once = 0;
  static gboolean have_gpu;

  /* Devices do not come and go while the process runs. */
  if (g_once_init_enter (&once)) {
    g_autoptr (GPtrArray) list = cfqp_opencl_list_devices (NULL);
    for (guint i = 0; list && i < list->len; i++)
      have_gpu |= ((CfqpOpenCLDevice *) list->pdata[i])->is_gpu;
    g_once_init_leave (&once, 1);
  }
  return have_gpu;
}

static gboolean
is_index (const char *s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* The first device spec names: index, case-insensitive name (or platform)
 * substring, or the first GPU for NULL. */
static CfqpOpenCLDevice *
select_device (GPtrArray *list, const char *spec)
{
  g_autofree char *want = spec ? g_ascii_strdown (spec, -1) : NULL;

  for (guint i = 0; i < list->len; i++) {
    CfqpOpenCLDevice *dev = list->pdata[i];
    g_autofree char *name = g_ascii_strdown (dev->name, -1);
    g_autofree char *platform = g_ascii_strdown (dev->platform, -1);

    if (!spec ? dev->is_gpu :
        is_index (spec) ? g_ascii_strtoull (spec, NULL, 10) == dev->index :
        strstr (name, want) != NULL || strstr (platform, want) != NULL)
      return dev;
  }
  return NULL;
}

static char *
describe_devices (GPtrArray *list)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < list->len; i++) {
    CfqpOpenCLDevice *dev = list->pdata[i];
    g_string_append_printf (s, "%s%u: %s (%s, %s)", i ? "; " : "", dev->index, dev->name,
        dev->is_gpu ? "GPU" : "not a GPU", dev->platform);
  }
  if (!list->len)
    g_string_append (s, "no OpenCL platform installed");
  return g_string_free (s, FALSE);
}

/* One per device, kept for the life of the process. */
typedef struct {
  cl_device_id device;
  char        *name;
  cl_context   context;
  cl_program   program;
} SharedDevice;

static GMutex shared_lock;
static GPtrArray *shared_devices;

static gboolean
has_extension (cl_device_id device, const char *name)
{
  g_autofree char *ext = device_string (device, CL_DEVICE_EXTENSIONS);
  g_auto (GStrv) list = g_strsplit (ext, " ", -1);

  return g_strv_contains ((const char *const *) list, name);
}

/* cl_nv_device_attribute_query */
#define CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV 0x4000
#define CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV 0x4001

/* NVIDIA compute capability 6.1 and later has dp4a. */
static gboolean
nv_has_dp4a (cl_device_id device)
{
  cl_uint major = 0, minor = 0;

  if (!has_extension (device, "cl_nv_device_attribute_query") ||
      clGetDeviceInfo (device, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, sizeof major, &major,
          NULL) != CL_SUCCESS ||
      clGetDeviceInfo (device, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, sizeof minor, &minor,
          NULL) != CL_SUCCESS)
    return FALSE;
  return major > 6 || (major == 6 && minor >= 1);
}

static gboolean
build_program (SharedDevice *sd, GError **error)
{
  const char *source = cfqp_opencl_kernels_source;
  /* The tiled convs' dot product (int8.cl's DOT4_ACC), fastest first; a
   * compiler that refuses one gets the next rather than no OpenCL at all.
   * $CFQP_OPENCL_NO_DOT keeps mad24 (to compare, or to get round a
   * driver's bug). */
  const char *tries[2];
  guint n_tries = 0;
  cl_int err = CL_BUILD_PROGRAM_FAILURE;

  if (!g_getenv ("CFQP_OPENCL_NO_DOT")) {
    if (has_extension (sd->device, "cl_khr_integer_dot_product"))
      tries[n_tries++] = "-cl-std=CL1.2 -DCFQP_DOT";
    if (nv_has_dp4a (sd->device))
      tries[n_tries++] = "-cl-std=CL1.2 -DCFQP_NV_DP4A";
  }
  for (guint t = 0; t < n_tries && err != CL_SUCCESS; t++) {
    sd->program = clCreateProgramWithSource (sd->context, 1, &source, NULL, &err);
    if (!cfqp_opencl_check (err, "clCreateProgramWithSource", error))
      return FALSE;
    err = clBuildProgram (sd->program, 1, &sd->device, tries[t], NULL, NULL);
    if (err != CL_SUCCESS) {
      g_debug ("%s: building with '%s' failed (%s)", sd->name, tries[t],
          cfqp_opencl_error_name (err));
      g_clear_pointer (&sd->program, clReleaseProgram);
    }
  }
  if (err == CL_SUCCESS)
    return TRUE;
  sd->program = clCreateProgramWithSource (sd->context, 1, &source, NULL, &err);
  if (!cfqp_opencl_check (err, "clCreateProgramWithSource", error))
    return FALSE;
  err = clBuildProgram (sd->program, 1, &sd->device, "-cl-std=CL1.2", NULL, NULL);
  if (err != CL_SUCCESS) {
    char log[BUILD_LOG_MAX] = "";
    clGetProgramBuildInfo (sd->program, sd->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log,
        NULL);
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "clBuildProgram failed: %s (%d) on %s: %s", cfqp_opencl_error_name (err), err,
        sd->name, log);
    return FALSE;
  }
  return TRUE;
}

static SharedDevice *
shared_device_get (CfqpOpenCLDevice *dev, GError **error)
{
  SharedDevice *sd;
  cl_int err;

  if (!shared_devices)
    shared_devices = g_ptr_array_new ();
  for (guint i = 0; i < shared_devices->len; i++) {
    sd = shared_devices->pdata[i];
    if (sd->device == dev->id)
      return sd;
  }
  sd = g_new0 (SharedDevice, 1);
  sd->device = dev->id;
  sd->name = g_strdup (dev->name);
  sd->context = clCreateContext (NULL, 1, &dev->id, NULL, NULL, &err);
  if (!cfqp_opencl_check (err, "clCreateContext", error) || !build_program (sd, error)) {
    if (sd->program)
      clReleaseProgram (sd->program);
    if (sd->context)
      clReleaseContext (sd->context);
    g_free (sd->name);
    g_free (sd);
    return NULL;
  }
  g_ptr_array_add (shared_devices, sd);
  return sd;
}

CfqpOpenCLDevice *
cfqp_opencl_find_device (const char *spec, GError **error)
{
  g_autoptr (GPtrArray) list = cfqp_opencl_list_devices (error);
  CfqpOpenCLDevice *dev;

  if (!list)
    return NULL;
  dev = select_device (list, spec);
  if (!dev) {
    g_autofree char *avail = describe_devices (list);
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "no OpenCL device '%s' (available: %s)", spec ? spec : "GPU", avail);
    return NULL;
  }
  return g_ptr_array_steal_index (list, dev->index);
}

gboolean
cfqp_opencl_open (const char *spec, cl_device_id *device, char **name, cl_context *context,
    cl_program *program, GError **error)
{
  g_autoptr (GPtrArray) list = cfqp_opencl_list_devices (error);
  CfqpOpenCLDevice *dev;
  SharedDevice *sd;

  if (!list)
    return FALSE;
  dev = select_device (list, spec);
  if (!dev) {
    g_autofree char *avail = describe_devices (list);
    g_autofree char *what = spec ? g_strdup_printf ("'%s'", spec) : g_strdup ("GPU");
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "no OpenCL device %s (available: %s)", what, avail);
    return FALSE;
  }
  g_mutex_lock (&shared_lock);
  sd = shared_device_get (dev, error);
  if (sd) {
    clRetainContext (sd->context);
    clRetainProgram (sd->program);
    *device = sd->device;
    *name = g_strdup (sd->name);
    *context = sd->context;
    *program = sd->program;
  }
  g_mutex_unlock (&shared_lock);
  return sd != NULL;
}
