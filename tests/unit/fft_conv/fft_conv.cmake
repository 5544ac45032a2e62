# The long-convolution ops (fft_conv, fft_conv_grad): verifier, gradients, the CPU runtime
# kernels against the reference interpreter (up to N = 65536, 1 and 2 threads), and the
# long-conv rewrite compiled end to end.
file(GLOB FFT_CONV_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
tevo_unit_test(fft_conv_tests SOURCES ${FFT_CONV_TESTS}
  LIBS tevo_cpu tevo_frontend tevo_runtime tevo_test_support)

# Not a test: direct vs FFT timings (docs and the long-conv cost figures).
add_executable(fft_conv_bench ${CMAKE_CURRENT_LIST_DIR}/fft_conv_bench.cpp)
target_link_libraries(fft_conv_bench PRIVATE tevo_cpu tevo_passes)
tevo_warnings(fft_conv_bench)
