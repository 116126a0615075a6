/// A bounded map that forgets the least recently used entry first, with a per-entry expiry.
///
/// Nodes live in an array linked by indices: lookups, inserts and evictions are O(1) and an eviction
/// reuses the evicted node's slot, so a full cache allocates nothing. Expired entries are not
/// removed eagerly; they read as absent and are overwritten or evicted in time. Not thread-safe:
/// ``SingleFlightCache`` guards it with a mutex.
struct LRUStore<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var expires: ContinuousClock.Instant
        var newer: Int
        var older: Int
    }

    let capacity: Int
    private var nodes: [Node] = []
    private var positions: [Key: Int] = [:]
    /// Most and least recently used node, or -1 when empty.
    private var newest = -1
    private var oldest = -1

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { positions.count }

    /// The value if present and not expired at `now`; marks it most recently used.
    mutating func value(for key: Key, now: ContinuousClock.Instant) -> Value? {
        guard let position = positions[key], nodes[position].expires > now else { return nil }
        moveToFront(position)
        return nodes[position].value
    }

    /// Stores `value` until `expires`, evicting the least recently used entry when full.
    mutating func set(_ value: Value, for key: Key, expires: ContinuousClock.Instant) {
        if let position = positions[key] {
            nodes[position].value = value
            nodes[position].expires = expires
            moveToFront(position)
            return
        }
        let position: Int
        if nodes.count < capacity {
            nodes.append(Node(key: key, value: value, expires: expires, newer: -1, older: -1))
            position = nodes.count - 1
        } else {
            position = oldest
            unlink(position)
            positions[nodes[position].key] = nil
            nodes[position] = Node(key: key, value: value, expires: expires, newer: -1, older: -1)
        }
        positions[key] = position
        linkFront(position)
    }

    private mutating func moveToFront(_ position: Int) {
        guard position != newest else { return }
        unlink(position)
        linkFront(position)
    }

    private mutating func unlink(_ position: Int) {
        let (newer, older) = (nodes[position].newer, nodes[position].older)
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
    }

    private mutating func linkFront(_ position: Int) {
        nodes[position].newer = -1
        nodes[position].older = newest
        if newest >= 0 { nodes[newest].newer = position }
        newest = position
        if oldest < 0 { oldest = position }
    }
}
