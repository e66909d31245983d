# Copies uPlot's dist files from web/node_modules into the dashboard's vendor/ directory
# (cmake -DFROM=<node_modules/uplot> -DTO=<build>/src/web/vendor -P copy_vendor.cmake).
set(files "dist/uPlot.iife.min.js=uPlot.iife.min.js" "dist/uPlot.min.css=uPlot.min.css"
          "LICENSE=uPlot.LICENSE.txt")
if(NOT EXISTS "${FROM}/dist/uPlot.iife.min.js")
  message(WARNING "${FROM} is missing: run scripts/bootstrap (npm ci in web/). "
                  "The dashboard is served without its chart library.")
  return()
endif()
file(MAKE_DIRECTORY "${TO}")
foreach(pair ${files})
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 from)
  list(GET parts 1 to)
  execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${FROM}/${from}" "${TO}/${to}"
                  RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "cannot copy ${FROM}/${from} to ${TO}/${to}")
  endif()
endforeach()
