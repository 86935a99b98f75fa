//! Which previous/next links a write changes. Pure: from the post as stored (with
//! its links), the post as it will be, and its new neighbours (read from the `FEED`
//! run), it plans the link updates of the posts around its old and new place and
//! keeps only those that differ from what those posts hold now.

use std::collections::BTreeMap;

use crate::post::{Neighbour, Post, Slug};

/// One neighbour's change: `Some(x)` sets a link to `x` (`None` removes it).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LinkUpdate {
    /// New `previous` (older neighbour), when it changes.
    pub previous: Option<Option<Neighbour>>,
    /// New `next` (newer neighbour), when it changes.
    pub next: Option<Option<Neighbour>>,
}

/// A planned relinking: updates by slug, and each updated post as a `Neighbour`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LinkPlan {
    /// What each other post's links become.
    pub updates: BTreeMap<Slug, LinkUpdate>,
    /// The posts whose links change.
    pub relinked: Vec<Neighbour>,
}

/// Plans the links around a write. `old` is the stored post (listed, i.e. not a
/// draft, or `None`); `new` is the listed post being written (or `None`), with
/// `older`/`newer` its neighbours once `old` is gone from the run.
pub fn plan(
    old: Option<&Post>,
    new: Option<&Post>,
    older: Option<&Neighbour>,
    newer: Option<&Neighbour>,
) -> LinkPlan {
    let mut want: BTreeMap<Slug, LinkUpdate> = BTreeMap::new();
    let mut have: BTreeMap<Slug, LinkUpdate> = BTreeMap::new();
    let mut who: BTreeMap<Slug, Neighbour> = BTreeMap::new();
    // Close the gap the post leaves: its neighbours now face each other.
    if let Some(o) = old {
        let me = Some(Neighbour::of(o));
        if let Some(p) = &o.previous {
            want.entry(p.slug.clone()).or_default().next = Some(o.next.clone());
            have.entry(p.slug.clone()).or_default().next = Some(me.clone());
            who.insert(p.slug.clone(), p.clone());
        }
        if let Some(n) = &o.next {
            want.entry(n.slug.clone()).or_default().previous = Some(o.previous.clone());
            have.entry(n.slug.clone()).or_default().previous = Some(me);
            who.insert(n.slug.clone(), n.clone());
        }
    }
    // Open one where it lands. What the neighbours hold now: the old post, if it
    // sat right next to them, or else each other.
    if let Some(p) = new {
        let me = Some(Neighbour::of(p));
        let beside_old = |n: &Neighbour, link: Option<&Neighbour>| {
            old.filter(|_| link.is_some_and(|l| l.slug == n.slug))
                .map(Neighbour::of)
        };
        if let Some(o) = older {
            want.entry(o.slug.clone()).or_default().next = Some(me.clone());
            let was =
                beside_old(o, old.and_then(|b| b.previous.as_ref())).or_else(|| newer.cloned());
            have.entry(o.slug.clone()).or_default().next = Some(was);
            who.insert(o.slug.clone(), o.clone());
        }
        if let Some(n) = newer {
            want.entry(n.slug.clone()).or_default().previous = Some(me);
            let was = beside_old(n, old.and_then(|b| b.next.as_ref())).or_else(|| older.cloned());
            have.entry(n.slug.clone()).or_default().previous = Some(was);
            who.insert(n.slug.clone(), n.clone());
        }
    }
    for written in old.iter().chain(new.iter()) {
        want.remove(&written.slug);
    }
    let mut out = LinkPlan::default();
    for (slug, w) in want {
        let h = have.remove(&slug).unwrap_or_default();
        let changed = |want: Option<Option<Neighbour>>, have: Option<Option<Neighbour>>| {
            want.filter(|w| Some(w) != have.as_ref())
        };
        let update = LinkUpdate {
            previous: changed(w.previous, h.previous),
            next: changed(w.next, h.next),
        };
        if update.previous.is_some() || update.next.is_some() {
            if let Some(n) = who.remove(&slug) {
                out.relinked.push(n);
            }
            out.updates.insert(slug, update);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::link_neighbours;

    fn post(slug: &str, day: u32, title: &str) -> Post {
        crate::authoring::compile(
            &format!("---\ntitle: {title}\nslug: {slug}\ndate: 2024-01-{day:02}\n---\nx\n"),
            None,
        )
        .unwrap()
    }

    /// Applies a plan to `posts` and checks the result against linking from scratch.
    fn check(mut before: Vec<Post>, old_slug: Option<&str>, new: Option<Post>) {
        link_neighbours(&mut before);
        let old = old_slug
            .and_then(|s| before.iter().find(|p| p.slug.as_str() == s))
            .cloned();
        let mut after: Vec<Post> = before
            .iter()
            .filter(|p| Some(p.slug.as_str()) != old_slug)
            .cloned()
            .collect();
        let (older, newer) = match &new {
            Some(n) => {
                let key = n.sort_key();
                let older = after
                    .iter()
                    .filter(|p| p.sort_key() < key)
                    .max_by_key(|p| p.sort_key())
                    .map(Neighbour::of);
                let newer = after
                    .iter()
                    .filter(|p| p.sort_key() > key)
                    .min_by_key(|p| p.sort_key())
                    .map(Neighbour::of);
                (older, newer)
            }
            None => (None, None),
        };
        let plan = plan(old.as_ref(), new.as_ref(), older.as_ref(), newer.as_ref());
        for p in &mut after {
            if let Some(u) = plan.updates.get(&p.slug) {
                if let Some(prev) = &u.previous {
                    p.previous.clone_from(prev);
                }
                if let Some(next) = &u.next {
                    p.next.clone_from(next);
                }
            }
        }
        if let Some(mut n) = new {
            n.previous = older;
            n.next = newer;
            after.push(n);
        }
        let mut expected = after.clone();
        link_neighbours(&mut expected);
        assert_eq!(after, expected);
        // Only posts whose links really changed are touched.
        for p in &after {
            let was = before.iter().find(|b| b.slug == p.slug);
            let moved = was.is_some_and(|b| b.previous != p.previous || b.next != p.next);
            let touched = plan.updates.contains_key(&p.slug);
            if Some(p.slug.as_str()) != old_slug && was.is_some() {
                assert_eq!(moved, touched, "{}", p.slug);
            }
        }
    }

    fn chain() -> Vec<Post> {
        vec![
            post("a", 1, "A"),
            post("b", 3, "B"),
            post("c", 5, "C"),
            post("d", 7, "D"),
        ]
    }

    #[test]
    fn every_kind_of_write_relinks_like_linking_from_scratch() {
        check(chain(), None, Some(post("x", 4, "X")));
        check(chain(), None, Some(post("x", 9, "X")));
        check(chain(), None, Some(post("x", 1, "X")));
        check(chain(), Some("b"), Some(post("b", 3, "B")));
        check(chain(), Some("b"), Some(post("b", 3, "B retitled")));
        check(chain(), Some("b"), Some(post("b", 6, "B")));
        check(chain(), Some("b"), Some(post("b", 9, "B")));
        check(chain(), Some("b"), Some(post("renamed", 3, "B")));
        check(chain(), Some("b"), None);
        check(chain(), Some("a"), None);
        check(chain(), Some("d"), None);
        check(vec![post("a", 1, "A")], Some("a"), None);
        check(Vec::new(), None, Some(post("x", 4, "X")));
    }

    #[test]
    fn an_unchanged_place_and_title_touch_nobody() {
        let mut posts = chain();
        link_neighbours(&mut posts);
        let b = posts[1].clone();
        let older = b.previous.clone();
        let newer = b.next.clone();
        let p = plan(Some(&b), Some(&b), older.as_ref(), newer.as_ref());
        assert!(p.updates.is_empty() && p.relinked.is_empty(), "{p:?}");
    }
}
