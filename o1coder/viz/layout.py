"""Tidy tree layout in linear time (Buchheim, Jünger and Leipert 2002, "Improving Walker's Algorithm to Run in
Linear Time"), for search trees of thousands of nodes.

Every depth is a row; siblings keep their order; a parent sits centred over its first and last child; subtrees are
packed as close as ``distance`` allows, contour against contour, so a bushy subtree next to a deep thin path does not
push the whole row apart as a leaf-counting layout would. Walker's contour threads and Buchheim's shift/change
bookkeeping keep the total work O(n): no subtree is ever walked again to be moved.

    x, depth = tidy_layout([None, 0, 0, 1])      # parents by node id (ids dense, parent before child)

Iterative (no recursion), so depth is bounded only by memory.
"""

from __future__ import annotations

from collections.abc import Sequence


def children_lists(parents: Sequence[int | None]) -> list[list[int]]:
    """Children of every node in id order (``parents[i]`` is node i's parent, None for a root)."""
    children: list[list[int]] = [[] for _ in parents]
    for node, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(node)
    return children


def tidy_layout(parents: Sequence[int | None], distance: float = 1.0) -> tuple[list[float], list[int]]:
    """(x, depth) of every node; the leftmost node of the tree is at x = 0. Several roots sit side by side."""
    n = len(parents)
    if n == 0:
        return [], []
    children = children_lists(parents)
    roots = [i for i, p in enumerate(parents) if p is None]
    parent = list(parents)
    if len(roots) > 1:  # a forest: lay it out under a virtual root, then drop it
        parent = [*parent, None]
        for r in roots:
            parent[r] = n
        children.append(roots)
        roots = [n]
    size = len(parent)

    x = [0.0] * size
    mod = [0.0] * size
    shift = [0.0] * size
    change = [0.0] * size
    thread: list[int] = [-1] * size
    ancestor = list(range(size))
    number = [0] * size  # position among siblings
    for kids in children:
        for i, c in enumerate(kids):
            number[c] = i
    left_sibling = [-1] * size
    leftmost_sibling = [-1] * size
    for kids in children:
        for i in range(1, len(kids)):
            left_sibling[kids[i]] = kids[i - 1]
            leftmost_sibling[kids[i]] = kids[0]
    midpoint = [0.0] * size

    def next_left(v: int) -> int:
        return children[v][0] if children[v] else thread[v]

    def next_right(v: int) -> int:
        return children[v][-1] if children[v] else thread[v]

    def move_subtree(wl: int, wr: int, amount: float) -> None:
        subtrees = number[wr] - number[wl]
        change[wr] -= amount / subtrees
        shift[wr] += amount
        change[wl] += amount / subtrees
        x[wr] += amount
        mod[wr] += amount

    def apportion(v: int, default_ancestor: int) -> int:
        w = left_sibling[v]
        if w < 0:
            return default_ancestor
        vir = vor = v  # inner/outer right contour (v's subtree), inner/outer left contour (left siblings)
        vil, vol = w, leftmost_sibling[v]
        sir = sor = mod[v]
        sil, sol = mod[vil], mod[vol]
        while next_right(vil) >= 0 and next_left(vir) >= 0:
            vil, vir = next_right(vil), next_left(vir)
            vol, vor = next_left(vol), next_right(vor)
            ancestor[vor] = v
            gap = (x[vil] + sil) - (x[vir] + sir) + distance
            if gap > 0:
                a = ancestor[vil] if parent[ancestor[vil]] == parent[v] else default_ancestor
                move_subtree(a, v, gap)
                sir += gap
                sor += gap
            sil += mod[vil]
            sir += mod[vir]
            sol += mod[vol]
            sor += mod[vor]
        if next_right(vil) >= 0 and next_right(vor) < 0:
            thread[vor] = next_right(vil)
            mod[vor] += sil - sor
        else:
            if next_left(vir) >= 0 and next_left(vol) < 0:
                thread[vol] = next_left(vir)
                mod[vol] += sir - sol
            default_ancestor = v
        return default_ancestor

    def place(v: int) -> None:
        """Preliminary x of v, once its subtree is laid out and its left siblings are placed."""
        w = left_sibling[v]
        if w >= 0:
            x[v] = x[w] + distance
            if children[v]:
                mod[v] = x[v] - midpoint[v]
        else:
            x[v] = midpoint[v] if children[v] else 0.0

    # First walk, post-order: a node's children are placed and apportioned left to right, then its shifts run.
    for v in _postorder(children, roots[0]):
        kids = children[v]
        if not kids:
            continue
        default_ancestor = kids[0]
        for w in kids:
            place(w)
            default_ancestor = apportion(w, default_ancestor)
        total_shift = total_change = 0.0
        for w in reversed(kids):
            x[w] += total_shift
            mod[w] += total_shift
            total_change += change[w]
            total_shift += shift[w] + total_change
        midpoint[v] = (x[kids[0]] + x[kids[-1]]) / 2
    place(roots[0])

    # Second walk, pre-order: add the ancestors' modifiers.
    depth = [0] * size
    stack = [(roots[0], 0.0, 0)]
    while stack:
        v, m, d = stack.pop()
        x[v] += m
        depth[v] = d
        for w in children[v]:
            stack.append((w, m + mod[v], d + 1))
    if size > n:  # drop the virtual root
        x, depth = x[:n], [d - 1 for d in depth[:n]]
    low = min(x)
    return [value - low for value in x], depth


def _postorder(children: list[list[int]], root: int) -> list[int]:
    order, stack = [], [root]
    while stack:
        v = stack.pop()
        order.append(v)
        stack.extend(children[v])
    order.reverse()  # reversed pre-order (children pushed left to right): every child before its parent
    return order
