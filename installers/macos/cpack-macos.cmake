# macOS: a DragNDrop disk image with Goop Monitor.app (which also carries goop-rendezvous),
# the launchd plist for the server and a README saying how to install it.
set(CPACK_GENERATOR DragNDrop)
set(CPACK_DMG_VOLUME_NAME "Goop Monitor ${PROJECT_VERSION}")
set(CPACK_DMG_FORMAT UDZO)
# Only the bundle: server/'s plain bin/goop-rendezvous would have no Qt frameworks next to it.
set(CPACK_COMPONENTS_ALL monitor)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_PACKAGE_FILE_NAME "goop-monitor-${PROJECT_VERSION}-macos")
