#include "ebpfrelay-rtcp.h"
int main (int argc, char **argv) { gst_init (&argc, &argv); g_test_init (&argc, &argv, NULL); return g_test_run (); }
