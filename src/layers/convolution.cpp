// T2T_PLACEHOLDER
#include "torch2trt/layers/convolution.h"
