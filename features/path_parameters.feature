Feature: The path parameters project_id, cluster_id and action_id
  The page: all three are mandatory strings. It states no format; the vendor's examples are
  32 lowercase hex characters (project_id) and lowercase UUIDs (cluster_id, action_id).
  A malformed or unknown ID is never accepted, and is rejected with a documented status:
  400, or 403 with an error code the vendor's table gives for it (CSS.0015 for a resource
  that is not found).

  ID cells are JSON strings in wire form: "%2F" goes out as %2F; a space or a non-ASCII
  character is percent-encoded on the way out. (A segment that is exactly ".." cannot be
  sent: URL libraries resolve it, as the servers in front of the API would.) The action_id
  values name no task of the target in any form: a real failed task's ID made malformed is a
  door (features/doors.feature), sent on the task where its effect is judged.

  @RUT-PATH-01 @RUT-PATH-02
  Scenario Outline: A malformed <param> is rejected (<case>)
    Given an unknown upgrade task
    When I retry it with the <param> set to <value>
    Then the request is rejected

    Examples: action_id
      | param     | case                     | value                                   |
      | action_id | empty-looking: a space   | " "                                     |
      | action_id | empty-looking: a tab     | "%09"                                   |
      | action_id | 65 characters            | "a" * 65                                |
      | action_id | 10,000 characters        | "a" * 10000                             |
      | action_id | upper case               | "5CA1AB1E-0000-4000-8000-00000000C0DE"  |
      | action_id | an encoded slash         | "5ca1ab1e%2F0000-4000-8000-00000000c0de" |
      | action_id | dot segments, encoded    | "..%2F..%2F5ca1ab1e"                    |
      | action_id | dots inside              | "5ca1ab1e..0000-4000-8000-00000000c0de" |
      | action_id | spaces inside            | "5ca1ab1e 0000 4000 8000 00000000c0de"  |
      | action_id | non-ASCII                | "5ca1ab1e-ä000-4000-8000-00000000c0de"  |
      | action_id | an encoded NUL           | "5ca1ab1e%00"                           |

    Examples: cluster_id
      | param      | case                   | value                                   |
      | cluster_id | empty-looking: a space | " "                                     |
      | cluster_id | 65 characters          | "e" * 65                                |
      | cluster_id | 10,000 characters      | "e" * 10000                             |
      | cluster_id | upper case             | "EA244205-D641-45D9-9DCB-AB2236BCD07E"  |
      | cluster_id | an encoded slash       | "ea244205%2Fd641-45d9-9dcb-ab2236bcd07e" |
      | cluster_id | dot segments, encoded  | "..%2Fea244205"                         |
      | cluster_id | spaces inside          | "ea244205 d641"                         |
      | cluster_id | non-ASCII              | "ea244205-d641-45d9-9dcb-ab2236bcdöüé"  |

    Examples: project_id
      | param      | case                   | value                                |
      | project_id | empty-looking: a space | " "                                  |
      | project_id | 65 characters          | "6" * 65                             |
      | project_id | 10,000 characters      | "6" * 10000                          |
      | project_id | upper case             | "6204A5BD270343B5885144CF9C8C158D"   |
      | project_id | an encoded slash       | "6204a5bd%2F270343b5885144cf9c8c158d" |
      | project_id | dot segments, encoded  | "..%2F6204a5bd"                      |
      | project_id | spaces inside          | "6204a5bd 270343b5"                  |
      | project_id | non-ASCII              | "6204a5bd27034３b5885144cf9c8c158d"  |

  # An empty ID leaves an empty segment in the path (//). The gateway in front of the
  # operation may answer that itself (404, no route): that is not the operation's answer, and
  # is reported as INFO, judged by no clause. Any answer that is the operation's must reject.
  @RUT-PATH-01 @RUT-PATH-02
  Scenario Outline: An empty <param> is not accepted
    Given an unknown upgrade task
    When I retry it with the <param> set to ""
    Then the request is rejected

    Examples:
      | param      |
      | project_id |
      | cluster_id |
      | action_id  |

  @RUT-PATH-03
  Scenario: A well-formed but unknown cluster_id is rejected
    Given an upgrade task of an unknown cluster
    When I retry it
    Then the request is rejected

  @RUT-PATH-03
  Scenario: An abort on a well-formed but unknown cluster_id is rejected
    Given an upgrade task of an unknown cluster
    When I abort it
    Then the request is rejected

  # A server that does not look at cluster_id would retry the task; so this one is mutating.
  @RUT-PATH-03 @RUT-EFFECT-01
  Scenario: A failed task named under an unknown cluster_id is not retried
    Given a failed upgrade task named under an unknown cluster
    When I retry it
    Then the request is rejected

  @RUT-PATH-04
  Scenario: A well-formed but unknown action_id is rejected
    Given an unknown upgrade task
    When I retry it
    Then the request is rejected

  @RUT-PATH-04
  Scenario: An abort of a well-formed but unknown action_id is rejected
    Given an unknown upgrade task
    When I abort it
    Then the request is rejected
