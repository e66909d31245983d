// Statistics: histograms, sketches and windows (header-only parts included from here).
#include "stats/bucket_histogram.h"
