/**
 * The order of a resumed page load's offers (docs/PROTOCOL.md §Resumed peer
 * connections): the first peer connection's claim is made after the kept
 * certificate is read and the kept answer applied, which takes longer than a
 * plain offer, so left alone the other peer connections' offers would reach
 * the agent first, and the agent would answer them (a new peer connection
 * each) before it hands the viewer its prepared one. The others therefore
 * make their offers once the claim has been handed to the sender: the claim
 * is handled first, and the peer connection that comes up first is the
 * resumed one.
 */

/** `make()` once `claim` has settled (at once without a claim); a failed claim holds nothing back. */
export function afterClaim<T>(claim: Promise<unknown> | undefined, make: () => Promise<T>): Promise<T> {
  if (!claim) return make();
  return claim.then(make, make);
}
