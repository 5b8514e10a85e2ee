# Patches whisper.cpp as whisper-rs-sys builds it. `.cargo/config.toml` names this file in
# CMAKE_PROJECT_INCLUDE_BEFORE, which whisper-rs-sys hands to CMake, so CMake runs it before every
# project() of whisper.cpp's build. whisper-rs-sys configures a private copy of whisper.cpp in
# cargo's OUT_DIR (target/*/build/whisper-rs-sys-*/out/whisper.cpp); only that copy is changed,
# never the crate in cargo's registry.
#
# Every `*.patch` beside this file is applied once: a copy that already carries a patch (it
# reverses cleanly) is left alone. A patch that no longer fits, e.g. after a whisper-rs-sys
# upgrade, stops the build with a message instead of building whisper.cpp without it.
#
#   dtw-short-pass.patch
#                       no DTW for a pass over fewer audio positions than DTW's median filter is
#                       wide (whisper.cpp asserted there, aborting the process; seen on a later
#                       pass over the last ~0.1 s of a window); those tokens keep whisper's own
#                       timestamps
#   encoder-bf16.patch  encoder matrices and encoder attention in bf16 on CPUs with AVX512-BF16
#                       (BENCHMARKS.md, ASR section); its build reports
#                       COURTSCRIBE_BF16_ENCODER = 1 in whisper_print_system_info
#   later-pass-context.patch
#                       whisper's later pass over the rest of a window (it stopped at a
#                       timestamp short of the end) gets an audio context fitted to that rest,
#                       not the caller's full one (BENCHMARKS.md, ASR section, stop 17)

if(EXISTS "${CMAKE_SOURCE_DIR}/src/whisper.cpp")
  find_program(_cs_patch_exe patch REQUIRED)
  file(GLOB _cs_patches "${CMAKE_CURRENT_LIST_DIR}/*.patch")
  list(SORT _cs_patches)
  foreach(_cs_patch IN LISTS _cs_patches)
    get_filename_component(_cs_name "${_cs_patch}" NAME)
    execute_process(
      COMMAND "${_cs_patch_exe}" -p1 --reverse --dry-run --force --silent -i "${_cs_patch}"
      WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
      RESULT_VARIABLE _cs_applied
      OUTPUT_QUIET ERROR_QUIET)
    if(NOT _cs_applied EQUAL 0)
      execute_process(
        COMMAND "${_cs_patch_exe}" -p1 --forward --batch --no-backup-if-mismatch -i "${_cs_patch}"
        WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
        RESULT_VARIABLE _cs_rc
        OUTPUT_VARIABLE _cs_out
        ERROR_VARIABLE _cs_out)
      if(NOT _cs_rc EQUAL 0)
        message(FATAL_ERROR
          "courtscribe: ${_cs_name} does not apply to ${CMAKE_SOURCE_DIR} "
          "(a whisper.cpp other than the one it was written for?):\n${_cs_out}")
      endif()
      message(STATUS "courtscribe: applied ${_cs_name} to ${CMAKE_SOURCE_DIR}")
    endif()
  endforeach()
endif()
