Feature: Every door of a failed task
  A request a conforming server refuses costs a request, not a task. So on each failed task
  the run is given, before the request that consumes it, every kind of refused request the
  spec knows is sent once (the spec's `doors:` and the refused requests of the other
  scenarios): no credentials, wrong credentials, a bad signature, every other method, every
  family of invalid or repeated retry_mode, IDs in another form that name the same task, the
  task under an unknown cluster or in another account's project; then the forms the page does
  not define (the path with a slash at the end, a doubled slash or its words in capitals, a
  method-override header, a body), which a server may serve as the retry: served so, that
  one is the task's witness. The retry or abort sent after them must still be accepted: else
  one of them acted, and the next failed tasks find which (half of them on the next task,
  then a quarter ...), unless the read API showed it.
  After an accepted retry or abort, neither a retry nor an abort of the task is accepted. With the read API, the whole cluster is read around each request that may act: no task any request did not name may change (RUT-SCOPE-01).

  @RUT-EFFECT-01 @RUT-METHOD-01 @RUT-SCOPE-01
  Scenario: No door of a failed task acts on it
    Given a failed upgrade task
    When I send it through every door the plan gives it
    Then every door is refused or is not the operation

  @RUT-EFFECT-02 @RUT-EXT-01
  Scenario: After an accepted retry or abort, neither a retry nor an abort is accepted
    Given an upgrade task that is not failed
    When I retry it and abort it, each unless the run sent it on the task already
    Then each is rejected as invalid
