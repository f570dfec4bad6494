Feature: The state of the task (extended)
  The newer edition of the page (Huawei Cloud, 2025) adds: the task must be in the failed
  state to call this API. Retrying or aborting a failed task takes it out of that state, so
  a second retry or abort is refused: which also shows that the first one acted. A task that
  is not failed is one this run retried or aborted, or the one the profile names.

  @RUT-EXT-01 @RUT-EFFECT-02
  Scenario: A task that is not failed cannot be retried
    Given an upgrade task that is not failed
    When I retry it
    Then the request is rejected as invalid

  @RUT-EXT-01 @RUT-EFFECT-02
  Scenario: A task that is not failed cannot be aborted
    Given an upgrade task that is not failed
    When I abort it
    Then the request is rejected as invalid

  @RUT-EXT-01 @RUT-QUERY-01 @RUT-EFFECT-02
  Scenario: A retried task cannot be retried again
    Given a failed upgrade task
    When I retry it
    Then the task is retried
    When I retry it again
    Then the request is rejected as invalid

  @RUT-EXT-01 @RUT-QUERY-02 @RUT-EFFECT-02
  Scenario: An aborted task cannot be retried
    Given a failed upgrade task
    When I abort it
    Then the task is aborted
    When I retry it
    Then the request is rejected as invalid
