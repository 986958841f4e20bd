// T2T_PLACEHOLDER
#include "torch2trt/layers/topk.h"
