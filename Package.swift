// swift-tools-version: 6.2
import PackageDescription

/// One set of compiler settings for every target, so strictness never differs between modules.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "cityscape",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cityscape-location", targets: ["LocationService"]),
        .executable(name: "cityscape-sun", targets: ["SunService"]),
        .executable(name: "cityscape-proxy", targets: ["ProxyServer"]),
        .executable(name: "cityscape-gateway", targets: ["GatewayService"]),
        // Not a service: `make bench` measures it as the floor under any SwiftNIO proxy (bench/relay).
        .executable(name: "cityscape-bench-relay", targets: ["BenchRelay"]),
        // Not a service: the open-loop load generator of `make demo`'s lab (bench/openload).
        .executable(name: "cityscape-openload", targets: ["OpenLoad"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // MARK: Shared plumbing
        // libcurl for the gateway's blocking transport, through typed `static inline` wrappers.
        .systemLibrary(
            name: "CCurl",
            path: "Services/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // The server side every service shares: configuration, logging, metrics, errors, the guarded HTTP/1 server.
        .target(
            name: "CityscapeKit",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Services/CityscapeKit",
            swiftSettings: swiftSettings
        ),
        // The client side, for the gateway alone: the `UpstreamClient` protocol and its transports (libcurl on a
        // worker pool; an HTTP/1 client on the serving event loops; AsyncHTTPClient for https:// upstreams), so
        // location and sun link neither libcurl nor AHC nor TLS.
        .target(
            name: "UpstreamKit",
            dependencies: [
                "CityscapeKit",
                "CCurl",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/UpstreamKit",
            swiftSettings: swiftSettings
        ),

        // MARK: Services
        .executableTarget(
            name: "LocationService",
            dependencies: [
                "CityscapeKit",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Services/Location",
            // Embedded, so `GET /openapi.json` works from an installed binary with no resource bundle.
            resources: [.embedInCode("API/openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SunService",
            dependencies: ["CityscapeKit"],
            path: "Services/Sun",
            // Embedded, so `GET /openapi.json` works from an installed binary with no resource bundle.
            resources: [.embedInCode("API/openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "GatewayService",
            dependencies: [
                "CityscapeKit",
                "UpstreamKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Gateway",
            // Embedded, so `GET /openapi.json` works from an installed binary with no resource bundle.
            resources: [.embedInCode("API/openapi.json")],
            swiftSettings: swiftSettings
        ),

        // MARK: The proxy
        // Linux only: the proxy's data path runs on epoll (EpollKit, Proxy/EpollKit/README.md), and a build of
        // it elsewhere stops at a one-line `#error`. The services above also build on macOS 15.
        // epoll, eventfd and accept4, which Swift's Glibc module does not expose.
        .systemLibrary(name: "CEpoll", path: "Proxy/EpollKit/CEpoll"),
        // The proxy's event loops, sockets and listener, behind a small public surface.
        .target(
            name: "EpollKit",
            dependencies: [
                "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Proxy/EpollKit",
            exclude: ["CEpoll", "README.md"],
            // Release builds skip the run-time exclusivity checks, as the proxy's own code does (below).
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "ProxyServer",
            dependencies: [
                "CityscapeKit", "EpollKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Proxy",
            exclude: ["EpollKit"],
            // Release builds skip the run-time exclusivity checks (about a tenth of the proxy's user CPU per
            // request, measured): its state is confined to one event loop thread, and the debug builds that
            // `make test` runs keep the checks, so an overlapping access still fails the tests.
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),

        .executableTarget(
            name: "BenchRelay",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/relay",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "OpenLoad",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/openload",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "CityscapeTestSupport",
            dependencies: [
                "CityscapeKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CityscapeTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CityscapeKitTests",
            dependencies: [
                "CityscapeKit",
                "CityscapeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/CityscapeKitTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LocationServiceTests",
            dependencies: [
                "LocationService",
                "CityscapeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LocationServiceTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SunServiceTests",
            dependencies: [
                "SunService",
                "CityscapeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SunServiceTests",
            exclude: ["Resources"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayServiceTests",
            dependencies: [
                "GatewayService",
                "CityscapeTestSupport",
                "UpstreamKit",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/GatewayServiceTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProxyServerTests",
            dependencies: [
                "ProxyServer",
                "EpollKit",
                "CityscapeTestSupport",
                "CityscapeKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ProxyServerTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EpollKitTests",
            dependencies: [
                "EpollKit",
                "CityscapeTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/EpollKitTests",
            swiftSettings: swiftSettings
        ),
        // The OpenAPI documents against the routers (route lists) and the live processes (answers).
        .testTarget(
            name: "ContractTests",
            dependencies: [
                "LocationService",
                "SunService",
                "GatewayService",
                "CityscapeKit",
                "CityscapeTestSupport",
                "UpstreamKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/ContractTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "CityscapeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/EndToEndTests",
            swiftSettings: swiftSettings
        ),
    ]
)
