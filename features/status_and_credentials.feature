Feature: Status codes and credentials
  The page documents 200 (request succeeded), 400 (invalid request) and 403 (request
  rejected: understood, but refused); after a 400 or 403 the client should not repeat the
  request unchanged. Missing or invalid credentials, and a project of another account, are
  refused with 403. No other status, and never a 5xx, is this operation's answer.

  Requests without valid credentials go to an unknown task, so that a server that wrongly
  ignores credentials still touches nothing.

  @RUT-AUTH-01
  Scenario Outline: A request without credentials is refused (<action>)
    Given an unknown upgrade task
    And I send no credentials
    When I <action>
    Then the request is refused

    Examples:
      | action   |
      | retry it |
      | abort it |

  @RUT-AUTH-02
  Scenario Outline: A request with wrong credentials is refused (<action>)
    Given an unknown upgrade task
    And I send wrong credentials
    When I <action>
    Then the request is refused

    Examples:
      | action   |
      | retry it |
      | abort it |

  @RUT-AUTH-02
  Scenario Outline: An AK/SK request signed wrongly is refused (<how>)
    Given an unknown upgrade task
    And I sign it with <how>
    When I retry it
    Then the request is refused

    Examples:
      | how                   |
      | a tampered signature  |
      | a stale X-Sdk-Date    |

  @RUT-AUTH-03
  Scenario: A request on the project of another account is refused
    Given an upgrade task in the project of another account
    When I retry it
    Then the request is refused

  @RUT-STATUS-01 @RUT-STATUS-02
  Scenario Outline: Every answer has a documented status, never a server error (<case>)
    Given <setup>
    When <action>
    Then the answer has a documented status

    Examples:
      | case                          | setup                                  | action                                                 |
      | a retry                       | a failed upgrade task                  | I retry it                                             |
      | an abort                      | a failed upgrade task                  | I abort it                                             |
      | an invalid retry_mode         | a failed upgrade task                  | I retry it with retry_mode "terminate"                 |
      | a 10,000-character retry_mode | a failed upgrade task                  | I retry it with retry_mode "x" * 10000                 |
      | an unknown cluster            | an upgrade task of an unknown cluster  | I retry it                                             |
      | an unknown task               | an unknown upgrade task                | I retry it                                             |
      | a 65-character action_id      | an unknown upgrade task                | I retry it with the action_id set to "a" * 65          |
      | a 10,000-character cluster_id | an unknown upgrade task                | I retry it with the cluster_id set to "c" * 10000      |
      | an encoded NUL in project_id  | an unknown upgrade task                | I retry it with the project_id set to "%00"            |
