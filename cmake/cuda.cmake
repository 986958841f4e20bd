# CUDA backend (src/backends/cuda). Included from the root CMakeLists.txt after torch2trt_core exists.
#
# Builds only when T2T_WITH_CUDA is on, a CUDA toolkit and compiler are found, and cuBLASLt is found;
# otherwise the library is CPU-only and cuda_backend() says why. cuDNN is optional: without it
# Convolution/Deconvolution run on a direct CUDA kernel (correct, slow).
#
# Variables a user may set: CMAKE_CUDA_ARCHITECTURES (default "80;90": A100, H100/H200),
# T2T_CUDNN_ROOT (a directory with include/cudnn.h and lib/libcudnn.so*).

if(NOT T2T_WITH_CUDA)
  return()
endif()

find_package(CUDAToolkit QUIET)
include(CheckLanguage)
check_language(CUDA)
if(NOT CUDAToolkit_FOUND OR NOT CMAKE_CUDA_COMPILER)
  message(STATUS "torch2trt: CUDA toolkit or nvcc not found; building without the CUDA backend")
  return()
endif()

# Site-packages of the Python that builds us: pip's nvidia-* wheels (the ones torch loads) live there.
set(_t2t_py "${Python_EXECUTABLE}")
if(NOT _t2t_py)
  find_program(_t2t_py NAMES python3 python)
endif()
set(_t2t_nvidia_dirs "")
if(_t2t_py)
  execute_process(COMMAND "${_t2t_py}" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"
                  OUTPUT_VARIABLE _t2t_site OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _t2t_rc)
  if(_t2t_rc EQUAL 0 AND EXISTS "${_t2t_site}/nvidia")
    set(_t2t_nvidia_dirs "${_t2t_site}/nvidia")
  endif()
endif()

# cuBLASLt: the toolkit's, else the pip wheel's (nvidia/cu13 since CUDA 13, nvidia/cublas before).
# Pip wheels ship only versioned sonames (libcublasLt.so.13), hence the explicit names.
set(_t2t_cublaslt_target "")
if(TARGET CUDA::cublasLt)
  set(_t2t_cublaslt_target CUDA::cublasLt)
else()
  set(_t2t_hints "")
  foreach(d ${_t2t_nvidia_dirs})
    list(APPEND _t2t_hints "${d}/cu${CUDAToolkit_VERSION_MAJOR}" "${d}/cublas")
  endforeach()
  find_path(T2T_CUBLASLT_INCLUDE_DIR cublasLt.h HINTS ${_t2t_hints} PATH_SUFFIXES include)
  find_library(T2T_CUBLASLT_LIBRARY NAMES cublasLt "libcublasLt.so.${CUDAToolkit_VERSION_MAJOR}"
               HINTS ${_t2t_hints} PATH_SUFFIXES lib lib64)
  if(T2T_CUBLASLT_INCLUDE_DIR AND T2T_CUBLASLT_LIBRARY)
    add_library(t2t_cublasLt UNKNOWN IMPORTED)
    set_target_properties(t2t_cublasLt PROPERTIES IMPORTED_LOCATION "${T2T_CUBLASLT_LIBRARY}"
                                                  INTERFACE_INCLUDE_DIRECTORIES "${T2T_CUBLASLT_INCLUDE_DIR}")
    set(_t2t_cublaslt_target t2t_cublasLt)
  endif()
endif()
if(NOT _t2t_cublaslt_target)
  message(WARNING "torch2trt: CUDA found but cuBLASLt not found (toolkit or pip nvidia-cublas); "
                  "building without the CUDA backend")
  return()
endif()

# cuDNN: a header and a library from the same place, so their versions agree. The pip wheel comes
# first because torch loads that one into the process (same soname), then system and toolkit dirs.
set(_t2t_cudnn_roots "")
if(T2T_CUDNN_ROOT)
  list(APPEND _t2t_cudnn_roots "${T2T_CUDNN_ROOT}")
endif()
foreach(d ${_t2t_nvidia_dirs})
  list(APPEND _t2t_cudnn_roots "${d}/cudnn")
endforeach()
set(T2T_CUDNN_INCLUDE_DIR "" CACHE PATH "Directory holding cudnn.h (found automatically when empty)")
set(T2T_CUDNN_LIBRARY "" CACHE FILEPATH "libcudnn to link (found automatically when empty)")
if(NOT T2T_CUDNN_INCLUDE_DIR OR NOT T2T_CUDNN_LIBRARY)
  set(T2T_CUDNN_INCLUDE_DIR "")
  set(T2T_CUDNN_LIBRARY "")
  foreach(root ${_t2t_cudnn_roots})
    if(EXISTS "${root}/include/cudnn.h")
      file(GLOB _t2t_libs "${root}/lib/libcudnn.so" "${root}/lib/libcudnn.so.[0-9]*"
                          "${root}/lib64/libcudnn.so" "${root}/lib64/libcudnn.so.[0-9]*")
      if(_t2t_libs)
        list(SORT _t2t_libs)
        list(GET _t2t_libs 0 _t2t_lib)
        set(T2T_CUDNN_INCLUDE_DIR "${root}/include")
        set(T2T_CUDNN_LIBRARY "${_t2t_lib}")
        break()
      endif()
    endif()
  endforeach()
  if(NOT T2T_CUDNN_LIBRARY)
    # System packages (Debian/Ubuntu libcudnn9-dev-cuda-*) or files copied into the toolkit.
    find_path(_t2t_cudnn_inc cudnn.h PATHS /usr/include/x86_64-linux-gnu /usr/include ${CUDAToolkit_INCLUDE_DIRS}
              NO_DEFAULT_PATH)
    find_library(_t2t_cudnn_lib NAMES cudnn libcudnn.so.9
                 PATHS /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib ${CUDAToolkit_LIBRARY_DIR} NO_DEFAULT_PATH)
    if(_t2t_cudnn_inc AND _t2t_cudnn_lib)
      set(T2T_CUDNN_INCLUDE_DIR "${_t2t_cudnn_inc}")
      set(T2T_CUDNN_LIBRARY "${_t2t_cudnn_lib}")
    endif()
    unset(_t2t_cudnn_inc CACHE)
    unset(_t2t_cudnn_lib CACHE)
  endif()
endif()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
  set(CMAKE_CUDA_ARCHITECTURES 80 90)
endif()
# One CUDA runtime per process: the shared one, which torch and the libraries (cuDNN, cuBLASLt) also use;
# CMake would otherwise add cudart_static beside it.
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

# The CUDA sources form an object library compiled into torch2trt_core: it gets its own warning flags
# (nvcc rejects the host compiler's -Wall) without changing torch2trt_core's.
file(GLOB T2T_CUDA_SOURCES CONFIGURE_DEPENDS src/backends/cuda/*.cu src/backends/cuda/*.cpp)
add_library(torch2trt_cuda OBJECT ${T2T_CUDA_SOURCES})
target_include_directories(torch2trt_cuda PRIVATE include src)
target_compile_definitions(torch2trt_cuda PRIVATE T2T_WITH_CUDA)
target_link_libraries(torch2trt_cuda PRIVATE CUDA::cudart ${_t2t_cublaslt_target})
target_compile_options(torch2trt_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wno-unused-parameter --expt-relaxed-constexpr>)
set_target_properties(torch2trt_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)

target_sources(torch2trt_core PRIVATE $<TARGET_OBJECTS:torch2trt_cuda>)
target_compile_definitions(torch2trt_core PUBLIC T2T_WITH_CUDA)
target_link_libraries(torch2trt_core PUBLIC CUDA::cudart ${_t2t_cublaslt_target})

if(T2T_CUDNN_INCLUDE_DIR AND T2T_CUDNN_LIBRARY)
  target_include_directories(torch2trt_cuda SYSTEM PRIVATE "${T2T_CUDNN_INCLUDE_DIR}")
  target_compile_definitions(torch2trt_cuda PRIVATE T2T_WITH_CUDNN)
  target_compile_definitions(torch2trt_core PUBLIC T2T_WITH_CUDNN)
  target_link_libraries(torch2trt_core PUBLIC "${T2T_CUDNN_LIBRARY}")
  # Loaded from where it was found, also when the Python extension is imported from the source tree.
  get_filename_component(_t2t_cudnn_dir "${T2T_CUDNN_LIBRARY}" DIRECTORY)
  set(CMAKE_BUILD_RPATH "${CMAKE_BUILD_RPATH};${_t2t_cudnn_dir}")
  set(CMAKE_INSTALL_RPATH "${CMAKE_INSTALL_RPATH};${_t2t_cudnn_dir}")
  message(STATUS "torch2trt: CUDA backend with cuDNN ${T2T_CUDNN_LIBRARY}")
else()
  message(WARNING "torch2trt: cuDNN not found (pip nvidia-cudnn-cu*, libcudnn9-dev, or -DT2T_CUDNN_ROOT=...); "
                  "CUDA Convolution/Deconvolution will run on a direct kernel (correct, slow)")
endif()
get_target_property(_t2t_lt_loc ${_t2t_cublaslt_target} IMPORTED_LOCATION)
# Installed modules (pip install .) find the CUDA libraries where they were found at build time when
# PyTorch has not loaded them into the process first.
if(_t2t_lt_loc)
  get_filename_component(_t2t_lt_dir "${_t2t_lt_loc}" DIRECTORY)
  set(CMAKE_INSTALL_RPATH "${CMAKE_INSTALL_RPATH};${_t2t_lt_dir}")
endif()
set(CMAKE_INSTALL_RPATH "${CMAKE_INSTALL_RPATH};${CUDAToolkit_LIBRARY_DIR}")
message(STATUS "torch2trt: CUDA backend enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES}, cuBLASLt ${_t2t_lt_loc})")
set(T2T_CUDA_ENABLED ON)
