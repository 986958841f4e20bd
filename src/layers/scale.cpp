// T2T_PLACEHOLDER
#include "torch2trt/layers/scale.h"
