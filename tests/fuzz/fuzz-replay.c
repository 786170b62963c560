/* main () for the fuzz targets when libFuzzer is not linked: runs
 * LLVMFuzzerTestOneInput on every file named, or on every file inside each
 * folder named, and says how many.  Crashes crash; that is the test. */
#include <glib.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static guint
run_path (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const char *name;
    while (dir && (name = g_dir_read_name (dir)))
      if (name[0] != '.' && !g_str_has_suffix (name, ".md"))
        g_ptr_array_add (names, g_build_filename (path, name, NULL));
    g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
    for (guint i = 0; i < names->len; i++)
      n += run_path (names->pdata[i]);
    return n;
  }
  if (!g_file_get_contents (path, &data, &len, NULL)) {
    fprintf (stderr, "cannot read %s\n", path);
    return 0;
  }
  printf ("%s (%zu bytes)\n", path, len);
  fflush (stdout);
  LLVMFuzzerTestOneInput ((const guint8 *) data, len);
  return 1;
}

int
main (int argc, char **argv)
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    n += run_path (argv[i]);
  printf ("%u inputs replayed\n", n);
  return 0;
}
