-- Argo CD health check for voicecap.io/VoiceCapacity
-- (argocd-cm: resource.customizations.health.voicecap.io_VoiceCapacity).
-- Healthy: Ready=True for the current generation. Suspended: spec.paused (Ready reason Paused).
-- Progressing: the operator has not answered this generation yet. Degraded: Ready=False, with
-- the Ready message (the field or the problem it names).
local hs = {}
if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the voicecap operator to report status"
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the voicecap operator to observe generation " .. tostring(generation)
  return hs
end
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      if condition.status == "True" and condition.reason == "Paused" then
        hs.status = "Suspended"
        hs.message = condition.message or "spec.paused: planned, nothing applied"
      elseif condition.status == "True" then
        hs.status = "Healthy"
        hs.message = condition.message
      elseif condition.status == "False" then
        hs.status = "Degraded"
        hs.message = (condition.reason or "NotReady") .. ": " .. (condition.message or "")
      else
        hs.status = "Progressing"
        hs.message = condition.message or "Ready is Unknown"
      end
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
