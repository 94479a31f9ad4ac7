#!/usr/bin/env bash
# Regenerates Sources/SparrowConvert/ONNX/onnx-subset.pb.swift from onnx-subset.proto.
#
# The generated file is committed so that ordinary builds need neither protoc nor the SwiftProtobuf build plugin
# (which would make every clean build pay for protoc). protoc comes from apt (`protobuf-compiler`); the plugin
# protoc-gen-swift is built once from swift-protobuf at the version Package.swift pins and cached.
#
# Environment:
#   SWIFT_PROTOBUF_URL      where to clone swift-protobuf from (default: the local package mirror, else GitHub)
#   SWIFT_PROTOBUF_VERSION  tag to build (default 1.39.0, keep in step with Package.swift)
#   SPARROW_TOOL_CACHE      cache directory for the built plugin (default ~/.cache/sparrow)
#   PROTOC_GEN_SWIFT        use this plugin binary instead of building one
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
proto_dir="$root/Sources/SparrowConvert/ONNX"
version="${SWIFT_PROTOBUF_VERSION:-1.39.0}"
cache="${SPARROW_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparrow}"

if ! command -v protoc >/dev/null 2>&1; then
    echo "error: protoc not found (install the apt package protobuf-compiler)" >&2
    exit 1
fi

plugin="${PROTOC_GEN_SWIFT:-$cache/swift-protobuf-$version/bin/protoc-gen-swift}"
if [[ ! -x "$plugin" ]]; then
    if [[ -n "${SWIFT_PROTOBUF_URL:-}" ]]; then
        url="$SWIFT_PROTOBUF_URL"
    elif [[ -d /opt/swift-packages/apple/swift-protobuf.git ]]; then
        url=/opt/swift-packages/apple/swift-protobuf.git
    else
        url=https://github.com/apple/swift-protobuf.git
    fi
    src="$cache/swift-protobuf-$version/src"
    echo "building protoc-gen-swift $version from $url (about 2 minutes, once)" >&2
    rm -rf "$src"
    mkdir -p "$(dirname "$src")"
    git clone --quiet --depth 1 --branch "$version" "$url" "$src" 2>/dev/null \
        || { git clone --quiet "$url" "$src" && git -C "$src" checkout --quiet "$version"; }
    (cd "$src" && swift build -c release --product protoc-gen-swift)
    mkdir -p "$(dirname "$plugin")"
    cp "$(cd "$src" && swift build -c release --show-bin-path)/protoc-gen-swift" "$plugin"
fi

# Internal visibility: the protobuf types are an implementation detail of the importer.
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$proto_dir" \
    --swift_opt=Visibility=Internal \
    --swift_out="$proto_dir" \
    onnx-subset.proto

echo "wrote $proto_dir/onnx-subset.pb.swift" >&2
