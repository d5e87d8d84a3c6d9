# CMake toolchain file for rumprun programs:
#   cmake -DCMAKE_TOOLCHAIN_FILE=<destdir>/share/rumprun/x86_64-rumprun-linux-toolchain.cmake ..
# rumprun runs unmodified static Linux x86_64 programs, so the target system is Linux;
# the compilers are the rumprun wrappers, which link statically.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(RUMPRUN TRUE)
set(RUMPRUN_TUPLE x86_64-rumprun-linux)

# This file is installed as <destdir>/share/rumprun/; the wrappers are in <destdir>/bin.
get_filename_component(_rumprun_bindir "${CMAKE_CURRENT_LIST_DIR}/../../bin" ABSOLUTE)
set(CMAKE_C_COMPILER "${_rumprun_bindir}/x86_64-rumprun-linux-gcc")
set(CMAKE_CXX_COMPILER "${_rumprun_bindir}/x86_64-rumprun-linux-g++")

# One static program: no shared libraries, prefer static archives.
set(BUILD_SHARED_LIBS OFF CACHE BOOL "rumprun links statically")
set(CMAKE_FIND_LIBRARY_SUFFIXES ".a")
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)

# Libraries and headers come from the host (the programs are Linux programs); host
# programs (code generators) are found on the host too.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
