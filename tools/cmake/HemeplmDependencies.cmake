# Every third-party dependency becomes one target here, so layer CMakeLists only name targets.
# Debian bookworm packages are found without hints; clusters point CMAKE_PREFIX_PATH at their builds.

# --- MPI (C API only; the deprecated C++ bindings break the link) -------------------------------
find_package(MPI REQUIRED COMPONENTS C)
add_library(hemeplm_mpi INTERFACE)
target_link_libraries(hemeplm_mpi INTERFACE MPI::MPI_C)
target_compile_definitions(hemeplm_mpi INTERFACE OMPI_SKIP_MPICXX MPICH_SKIP_MPICXX)

# --- parallel HDF5 (C API) ------------------------------------------------------------------------
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "hemeplm needs parallel HDF5 (Debian: libhdf5-openmpi-dev)")
endif()
add_library(hemeplm_hdf5 INTERFACE)
target_link_libraries(hemeplm_hdf5 INTERFACE hdf5::hdf5 hemeplm_mpi)

# --- GROMACS trajectory API (XTC/TRR reading; its legacy C API, nothing else) ----------------------
# Not find_package(gromacs): its config demands the gmx program (Debian package gromacs) even to link.
find_path(GROMACS_INCLUDE_DIR gromacs/fileio/trxio.h REQUIRED)
find_library(GROMACS_LIBRARY gromacs REQUIRED)
add_library(hemeplm_gromacs INTERFACE)
target_include_directories(hemeplm_gromacs SYSTEM INTERFACE ${GROMACS_INCLUDE_DIR})
target_link_libraries(hemeplm_gromacs INTERFACE ${GROMACS_LIBRARY})
target_compile_definitions(hemeplm_gromacs INTERFACE GMX_DOUBLE=0)

# --- Kokkos (Debian ships 3.4 inside Trilinos, Serial backend) -----------------------------------
find_package(Kokkos REQUIRED)
if(DEFINED Kokkos_INCLUDE_DIRS AND Kokkos_INCLUDE_DIRS)
  # The Trilinos export points at /usr/lib/include, which does not exist.
  set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${Kokkos_INCLUDE_DIRS}")
endif()

# --- LibTorch (Debian 1.13 CPU here; upstream 2.x with CUDA on clusters: -DCMAKE_PREFIX_PATH=<libtorch>) ---
find_package(Torch REQUIRED)
add_library(hemeplm_torch INTERFACE)
target_link_libraries(hemeplm_torch INTERFACE ${TORCH_LIBRARIES})
target_compile_options(hemeplm_torch INTERFACE ${TORCH_CXX_FLAGS})

# --- Boost, JSON ---------------------------------------------------------------------------------
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3.10 REQUIRED)

# --- gemmi (header only; needs PEGTL for CIF and stb for writers, neither declared by Debian) -----
find_path(GEMMI_INCLUDE_DIR gemmi/model.hpp REQUIRED)
find_path(PEGTL_INCLUDE_DIR tao/pegtl.hpp REQUIRED)
find_path(STB_INCLUDE_DIR stb/stb_sprintf.h REQUIRED)
find_package(ZLIB REQUIRED)
add_library(hemeplm_gemmi INTERFACE)
target_include_directories(hemeplm_gemmi SYSTEM INTERFACE ${GEMMI_INCLUDE_DIR} ${PEGTL_INCLUDE_DIR}
                                                          ${STB_INCLUDE_DIR})
target_compile_options(hemeplm_gemmi INTERFACE -Wno-cpp) # Debian's stb #warning is harmless
target_link_libraries(hemeplm_gemmi INTERFACE ZLIB::ZLIB)

# --- RDKit (no CMake config and no .pc in Debian) -------------------------------------------------
find_path(RDKIT_INCLUDE_DIR GraphMol/ROMol.h PATH_SUFFIXES rdkit REQUIRED)
set(_rdkit_libs)
foreach(c FileParsers SmilesParse PartialCharges SubstructMatch GraphMol RDGeometryLib RDGeneral)
  find_library(RDKIT_${c}_LIB NAMES RDKit${c} REQUIRED)
  list(APPEND _rdkit_libs ${RDKIT_${c}_LIB})
endforeach()
add_library(hemeplm_rdkit INTERFACE)
target_include_directories(hemeplm_rdkit SYSTEM INTERFACE ${RDKIT_INCLUDE_DIR})
target_link_libraries(hemeplm_rdkit INTERFACE ${_rdkit_libs} Boost::headers)

# --- METIS ----------------------------------------------------------------------------------------
find_path(METIS_INCLUDE_DIR metis.h REQUIRED)
find_library(METIS_LIBRARY metis REQUIRED)
add_library(hemeplm_metis INTERFACE)
target_include_directories(hemeplm_metis SYSTEM INTERFACE ${METIS_INCLUDE_DIR})
target_link_libraries(hemeplm_metis INTERFACE ${METIS_LIBRARY})

# --- CUDA and NCCL (optional) ---------------------------------------------------------------------
if(HEMEPLM_ENABLE_CUDA)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
endif()
if(HEMEPLM_ENABLE_NCCL)
  # NCCL ships no CMake config; the CUDA tree (or NCCL_ROOT) holds it.
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} $ENV{NCCL_ROOT}/include REQUIRED)
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} $ENV{NCCL_ROOT}/lib REQUIRED)
  add_library(hemeplm_nccl INTERFACE)
  target_include_directories(hemeplm_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
  target_link_libraries(hemeplm_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
endif()

# --- tests and benchmarks -------------------------------------------------------------------------
if(HEMEPLM_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(HEMEPLM_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
