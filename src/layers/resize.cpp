// T2T_PLACEHOLDER
#include "torch2trt/layers/resize.h"
