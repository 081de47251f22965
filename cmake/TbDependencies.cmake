# Required (MPI, hwloc, jansson) and optional (CUDA runtime, NCCL, UCX, libibverbs)
# dependencies. Each optional one is AUTO/ON/OFF: AUTO uses it when found, ON fails the
# configure when it is missing, OFF leaves it out.
#
# Two facts per optional dependency are baked into the binary (tb_build_info.h) and
# recorded in results.json, because finding a library is not using it:
#   found     the configure found it (TB_HAVE_<dep>, which the folders test before they
#             compile code for it);
#   compiled  some topobench library or program was built with code for it: it links the
#             dependency, or its CMakeLists declared tb_dep_compiled(<dep> <target>) (code
#             that dlopens the library links nothing).
# "compiled" is read from the targets at the end of the configure (tb_build_info_write),
# so it cannot drift from what the build does.
find_package(PkgConfig REQUIRED)
find_package(MPI REQUIRED COMPONENTS C)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)

set(TB_OPTIONAL_DEPS CUDA NCCL UCX VERBS)
foreach(dep ${TB_OPTIONAL_DEPS})
  set(TB_WITH_${dep} AUTO CACHE STRING "Use ${dep}: AUTO, ON or OFF")
  set_property(CACHE TB_WITH_${dep} PROPERTY STRINGS AUTO ON OFF)
  set(TB_HAVE_${dep} 0)
  set(TB_DETAIL_${dep} "")
endforeach()
# What links each dependency: its imported target or library.
set(TB_LINK_PATTERN_CUDA "^CUDA::")
set(TB_LINK_PATTERN_NCCL "nccl")
set(TB_LINK_PATTERN_UCX "^PkgConfig::UCX$")
set(TB_LINK_PATTERN_VERBS "^PkgConfig::VERBS$")

macro(tb_dep_result dep found detail)
  set(TB_DETAIL_${dep} "${detail}")
  if(${found})
    set(TB_HAVE_${dep} 1)
    message(STATUS "topobench optional ${dep}: found (${detail})")
  elseif(TB_WITH_${dep} STREQUAL "ON")
    message(FATAL_ERROR "TB_WITH_${dep}=ON but ${dep} was not found: ${detail}")
  else()
    message(STATUS "topobench optional ${dep}: no (${detail})")
  endif()
endmacro()

# For code that uses a dependency without linking it (dlopen): declares that `target`
# compiles code for `dep`.
function(tb_dep_compiled dep target)
  set_property(GLOBAL APPEND PROPERTY TB_COMPILED_${dep} ${target})
endfunction()

function(_tb_targets_below dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    _tb_targets_below(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# Writes generated/tb_build_info.h once every folder has declared its targets (deferred to
# the end of the top-level CMakeLists.txt). Tests and fuzz targets do not count as
# topobench code.
function(tb_build_info_write)
  set(targets "")
  foreach(dir core topo report bench)
    _tb_targets_below(${CMAKE_SOURCE_DIR}/${dir} t)
    list(APPEND targets ${t})
  endforeach()
  set(compiled_list "")
  foreach(dep ${TB_OPTIONAL_DEPS})
    get_property(users GLOBAL PROPERTY TB_COMPILED_${dep})
    foreach(t ${targets})
      get_target_property(libs ${t} LINK_LIBRARIES)
      if(NOT libs)
        continue()
      endif()
      foreach(lib ${libs})
        if(lib MATCHES "${TB_LINK_PATTERN_${dep}}")
          list(APPEND users ${t})
        endif()
      endforeach()
    endforeach()
    list(REMOVE_DUPLICATES users)
    if(users AND TB_HAVE_${dep})
      set(TB_COMPILED_${dep} 1)
      string(REPLACE ";" " " TB_COMPILED_${dep}_IN "${users}")
      list(APPEND compiled_list ${dep})
    else()
      set(TB_COMPILED_${dep} 0)
      set(TB_COMPILED_${dep}_IN "")
    endif()
  endforeach()
  if(NOT compiled_list)
    set(compiled_list "none")
  endif()
  message(STATUS "topobench optional dependencies compiled in: ${compiled_list}")
  configure_file(${CMAKE_SOURCE_DIR}/cmake/tb_build_info.h.in
    ${CMAKE_BINARY_DIR}/generated/tb_build_info.h @ONLY)
endfunction()

# CUDA runtime (toolkit in its standard location; compile and link only on CPU hosts).
if(NOT TB_WITH_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  tb_dep_result(CUDA CUDAToolkit_FOUND "${CUDAToolkit_VERSION} ${CUDAToolkit_LIBRARY_DIR}")
else()
  tb_dep_result(CUDA FALSE "disabled by TB_WITH_CUDA=OFF")
endif()

# NCCL ships with the CUDA toolkit here; elsewhere it lives in the system paths.
if(NOT TB_WITH_NCCL STREQUAL "OFF" AND TB_HAVE_CUDA)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    tb_dep_result(NCCL TRUE "${NCCL_LIBRARY}")
  else()
    tb_dep_result(NCCL FALSE "nccl.h or libnccl not found")
  endif()
elseif(NOT TB_WITH_NCCL STREQUAL "OFF")
  tb_dep_result(NCCL FALSE "needs the CUDA runtime")
else()
  tb_dep_result(NCCL FALSE "disabled by TB_WITH_NCCL=OFF")
endif()

if(NOT TB_WITH_UCX STREQUAL "OFF")
  pkg_check_modules(UCX QUIET IMPORTED_TARGET ucx)
  tb_dep_result(UCX UCX_FOUND "ucx ${UCX_VERSION}")
else()
  tb_dep_result(UCX FALSE "disabled by TB_WITH_UCX=OFF")
endif()

if(NOT TB_WITH_VERBS STREQUAL "OFF")
  pkg_check_modules(VERBS QUIET IMPORTED_TARGET libibverbs)
  tb_dep_result(VERBS VERBS_FOUND "libibverbs ${VERBS_VERSION}")
else()
  tb_dep_result(VERBS FALSE "disabled by TB_WITH_VERBS=OFF")
endif()
