/** The resource types of RFC 7643 §8.6 (User with the optional Enterprise extension, Group) as data. */
import { URN } from '../constants'
import type { ResourceTypeDef } from './types'

export const USER_RESOURCE_TYPE: ResourceTypeDef = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: URN.user,
  schemaExtensions: [{ schema: URN.enterpriseUser, required: false }],
}

export const GROUP_RESOURCE_TYPE: ResourceTypeDef = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: URN.group,
  schemaExtensions: [],
}

export const RESOURCE_TYPES: ResourceTypeDef[] = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE]
