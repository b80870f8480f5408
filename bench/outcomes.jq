# The outcome counts of `image-admission audit review` (docs/audit.md, src/audit/events.ts) as a jq
# program, for bench/audit.ts: the same classification, the same counts, on the same log.
#   jq -n -c -f bench/outcomes.jq audit.log
def ours: ["mutate.images.image-admission.io", "validate.images.image-admission.io"];
def decisions: ["denied", "allowed", "warned", "exempt", "dry-run"];
reduce (
  inputs
  | select(.stage == "ResponseComplete"
      and (.verb == "create" or .verb == "update" or .verb == "patch")
      and .objectRef.apiGroup == "image.openshift.io"
      and (.objectRef.resource | IN("images", "imagestreammappings", "imagestreamimports", "imagesignatures")))
) as $e ({};
  ($e.annotations // {}) as $a
  | $e.responseStatus.code as $code
  | ($e.requestURI | test("[?&]dryRun=[^&]")) as $dry
  | ($e.responseStatus.message // "") as $msg
  | ($e.objectRef.resource == "images" or ($e.objectRef.resource == "imagestreammappings" and $e.verb == "create")) as $judged
  | [$a | to_entries[] | select(.key | startswith("failed-open.") and contains(".webhook.admission.k8s.io/")) | .value] as $failedOpen
  | [$a | to_entries[] | select(.key | startswith("mutation.webhook.admission.k8s.io/")) | (.value | fromjson? | .webhook)] as $called
  | [ours[] as $n
      | $a[$n + "/decision"] as $d
      | if ($msg | contains("admission webhook \"" + $n + "\" denied the request")) then "denied"
        elif $d != null and ($d | IN(decisions[])) then $d
        elif ($msg | contains("failed calling webhook \"" + $n + "\"")) then "failed-closed"
        elif ($failedOpen | index([$n])) then "failed-open"
        elif ($called | index([$n])) then (if $code < 400 then "failed-open" else "failed-closed" end)
        else "not-called" end
    ] as $v0
  | [$v0[] | select(IN(decisions[]))] as $decided
  | (if $code == 500 and $judged and ($decided | length) > 0 then [$v0[] | if . == "not-called" then "failed-closed" else . end] else $v0 end) as $v
  | (($dry | not) and $code < 400) as $stored
  | (if ($v | index(["denied"])) then "denied"
     elif ($stored | not) then
       (if $code >= 400 and ($v | index(["failed-closed"])) then "failed-closed"
        elif $dry then "not-stored"
        elif ($decided | length) > 0 or ($v | index(["failed-open"])) then "refused-elsewhere"
        else "not-stored" end)
     elif ($v | index(["failed-open"])) then "failed-open"
     elif ($decided | length) == 0 then "bypassed"
     elif $judged and ($decided | length) < (ours | length) then "partial"
     else first(("exempt", "dry-run", "warned", "allowed") as $s | select($decided | index([$s])) | $s) end) as $outcome
  | .[$outcome] += 1)
