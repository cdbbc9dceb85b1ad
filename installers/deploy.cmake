# Windows and macOS: the Qt libraries and plugins go into the packages with Qt's deployment
# tools (windeployqt, macdeployqt) through qt_generate_deploy_app_script, as Qt's
# "Deploying Qt applications with CMake" describes. Linux packages depend on the
# distribution's Qt instead.

# Qt 6.4 names the result variable FILENAME_VARIABLE; 6.5 renamed it OUTPUT_SCRIPT.
function(goop_deploy_script target out_var)
    if(Qt6_VERSION VERSION_GREATER_EQUAL 6.5)
        qt_generate_deploy_app_script(TARGET ${target} OUTPUT_SCRIPT script
                                      NO_UNSUPPORTED_PLATFORM_ERROR)
    else()
        qt_generate_deploy_app_script(TARGET ${target} FILENAME_VARIABLE script
                                      NO_UNSUPPORTED_PLATFORM_ERROR)
    endif()
    set(${out_var} ${script} PARENT_SCOPE)
endfunction()

if(WIN32)
    # Each component deploys the Qt DLLs its executable needs next to it in bin/, so either
    # can be installed alone; where both are, the shared DLLs are the same files.
    if(goop_have_server)
        goop_deploy_script(goop-rendezvous server_deploy)
        install(SCRIPT ${server_deploy} COMPONENT server)
        install(FILES ${goop_docs}/DEPLOYMENT.md ${goop_docs}/API.md
                      ${goop_docs}/Caddyfile.example ${goop_docs}/nginx.conf.example
                DESTINATION doc COMPONENT server)
        install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/windows/goop-rendezvous-service.ps1
                DESTINATION bin COMPONENT server)
    endif()
    if(goop_have_monitor)
        set_target_properties(goop-monitor PROPERTIES WIN32_EXECUTABLE ON)
        goop_deploy_script(goop-monitor monitor_deploy)
        install(SCRIPT ${monitor_deploy} COMPONENT monitor)
    endif()
elseif(APPLE AND goop_have_monitor)
    # One app bundle, Goop Monitor.app, carries both programs: macdeployqt only deploys
    # bundles, and the server then shares the bundle's Qt frameworks. launchd runs the server
    # from inside the bundle (macos/org.goop.rendezvous.plist). The monitor's own install()
    # needs "BUNDLE DESTINATION ." for this.
    set_target_properties(goop-monitor PROPERTIES
        MACOSX_BUNDLE ON
        OUTPUT_NAME "Goop Monitor"
        MACOSX_BUNDLE_BUNDLE_NAME "Goop Monitor"
        MACOSX_BUNDLE_GUI_IDENTIFIER org.goop.monitor
        MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION}
        MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION})
    set(bundle "Goop Monitor.app")
    set(server_in_bundle "")
    if(goop_have_server)
        install(TARGETS goop-rendezvous RUNTIME DESTINATION "${bundle}/Contents/MacOS"
                COMPONENT monitor)
        set(server_in_bundle "ADDITIONAL_EXECUTABLES \"${bundle}/Contents/MacOS/goop-rendezvous\"")
        install(FILES macos/org.goop.rendezvous.plist macos/README-macOS.txt
                DESTINATION . COMPONENT monitor)
    endif()
    set(deploy_script ${CMAKE_CURRENT_BINARY_DIR}/deploy-macos-$<CONFIG>.cmake)
    file(GENERATE OUTPUT ${deploy_script} CONTENT "
include(\"${QT_DEPLOY_SUPPORT}\")
qt_deploy_runtime_dependencies(
    EXECUTABLE \"${bundle}\"
    ${server_in_bundle}
)
")
    install(SCRIPT ${deploy_script} COMPONENT monitor)
    install(FILES ${goop_docs}/DEPLOYMENT.md ${goop_docs}/API.md DESTINATION docs COMPONENT monitor)
endif()
