// OpenCL 1.2 API through the ICD loader (Debian: ocl-icd-opencl-dev, opencl-c-headers).
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
